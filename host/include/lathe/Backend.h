// Lathe: compute backends (CPU reference, CUDA accelerator) and their selection.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// A Backend runs the numeric work of a render on blocks of planar float audio. Every backend
// computes the same formulas (lathe/math, LATHE_HD) and is tested against CpuBackend, the
// reference (tests/parity). Backends are named and enumerable; selection is explicit: asking for a
// backend that cannot run throws BackendUnavailableError, and "auto" reports which backend it
// picked and why. Nothing ever switches backend silently.
//
// FFT conventions (for the convolution and spectrum work that follows): real-to-complex transforms
// of size N produce N/2+1 bins; neither forward nor inverse transform is scaled (FFTW and cuFFT
// agree); callers apply 1/N where they need it.
//
// Threading: the jobs of batch, compare and preview-codecs share one backend, and a render's stages,
// meters and analyses call it from their own threads. The CPU backend holds no state; the CUDA
// backend runs each operation on a lane of its own (a stream and buffers; a few at once, the rest
// wait for one) and gives every convolver its own stream and buffers. A Convolver itself is used
// by one thread at a time.
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/Convolution.h>
#include <lathe/Error.h>
#include <lathe/HostMemory.h>
#include <lathe/LimiterKernel.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/MultibandKernel.h>
#include <lathe/SpectrumKernel.h>
#include <lathe/Types.h>
#include <lathe/math/Quantize.h>
#include <lathe/math/SampleStats.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lathe {

/// What a backend can do. Every backend renders; analyses arrive on the GPU one by one, and a job
/// that needs one asks for it explicitly (BackendRegistry::select), so it never runs somewhere else
/// without saying so.
enum class Capability {
    Render,      ///< accumulateStats, sanitize, quantize
    Loudness,    ///< measureLoudnessChunk
    Convolution, ///< makeConvolver (linear-phase EQ, convolution reverb)
    Dynamics,    ///< multibandDynamics (else MultibandStage computes them on the host)
    LimiterPass, ///< limiterPass (else LimiterStage computes its first pass on the host)
    Spectrum,    ///< spectrumFrames (else SpectralAnalyzer computes its frames on the host)
    /// makeResident, trialLoudness (else the loudness targeting's trial renders on the host, its
    /// limiter pass and meter calling the device a block at a time)
    ResidentTrial,
};

inline constexpr Capability kCapabilities[] = {
    Capability::Render,      Capability::Loudness, Capability::Convolution,  Capability::Dynamics,
    Capability::LimiterPass, Capability::Spectrum, Capability::ResidentTrial};

std::string_view capabilityName(Capability c);
/// A short name for settings and environment variables: "render", "loudness", "convolution",
/// "dynamics", "limiter-pass", "spectrum".
std::string_view capabilityKey(Capability c);
/// The capabilities named in `list` (comma-separated keys, e.g. LATHE_CUDA_HOLD's
/// "limiter-pass,spectrum"), each of which must be one of `allowed`. Throws UsageError naming
/// `setting` and the allowed keys for anything else. An empty list names none.
std::vector<Capability> parseCapabilityKeys(std::string_view setting, std::string_view list,
                                            std::span<const Capability> allowed);

/// Where a device backend's time went since it was made (CUDA events on its streams): copies to
/// the device, kernels (cuFFT's included), copies back. Host work (decode, encode, the CPU stages)
/// is not in it. Calls on different streams (lanes, convolvers, held audio) run at once, so each
/// sum is device time summed over them and may exceed the wall time.
struct DeviceTiming {
    double hostToDeviceSeconds = 0.0;
    double kernelSeconds = 0.0;
    double deviceToHostSeconds = 0.0;
    std::int64_t hostToDeviceBytes = 0;
    std::int64_t deviceToHostBytes = 0;
    /// The most device memory Lathe's own buffers held at once in this process, cuFFT's work
    /// areas among them (its plans' own state and the CUDA context not included).
    std::int64_t peakBufferBytes = 0;
    /// The most page-locked host memory (Backend::hostMemory) its buffers held at once in this
    /// process.
    std::int64_t peakPinnedBytes = 0;
};

/// Audio a device backend holds in its own memory between the passes of a job — the loudness
/// targeting's intermediate, appended as the chain before the limiter renders it and read by the
/// trial (Backend::trialLoudness) without coming back to the host. One writer; read only by the
/// backend that made it, after finish(); it must not outlive that backend.
class ResidentAudio {
public:
    virtual ~ResidentAudio() = default;
    virtual int channels() const = 0;
    /// Frames appended so far.
    virtual Frames frames() const = 0;
    /// The next frames (block.channels() == channels()). Throws Error(Internal) past the length
    /// it was made for, GpuError when the device fails.
    virtual void append(const AudioBuffer& block) = 0;
    /// Everything has been appended (copies still in flight are waited for).
    virtual void finish() = 0;
};

class Backend {
public:
    virtual ~Backend() = default;

    /// Whether this backend implements the operations of `c`.
    virtual bool supports(Capability c) const = 0;

    /// "cpu" or "cuda".
    virtual std::string_view name() const = 0;
    /// One line for logs and reports: "CPU (2 threads)", "CUDA: NVIDIA H100 80GB HBM3 (sm_90, …)".
    virtual std::string description() const = 0;

    /// Adds the samples of `block` to the per-channel running statistics `stats` (one per channel).
    /// `firstFrame` is the absolute frame index of the block's first frame, used for peak and
    /// non-finite positions. Peak, counts and positions are exact on every backend; sums may differ
    /// by double rounding order (relative 1e-12).
    virtual void accumulateStats(const AudioBuffer& block, Frames firstFrame,
                                 std::span<math::SampleStats> stats) = 0;

    /// Replaces every NaN/±Inf sample of `block` by 0 and returns how many were replaced.
    virtual Frames sanitize(AudioBuffer& block) = 0;

    /// Quantises `block` (finite samples) to interleaved left-justified int32 codes, with the
    /// dither of `params` evaluated at absolute frames firstFrame, firstFrame+1, …. `out` holds
    /// block.frames() × block.channels() values. Returns the number of samples that clipped.
    /// Bit-identical on every backend.
    virtual Frames quantize(const AudioBuffer& block, Frames firstFrame, const math::QuantizeParams& params,
                            std::int32_t* out) = 0;

    /// Reduces one chunk to loudness records (lathe/LoudnessKernel.h). Capability::Loudness.
    /// The CPU implementation may be called from several threads at once (chunks in parallel).
    /// The default throws BackendUnavailableError.
    virtual void measureLoudnessChunk(const LoudnessParams& params, const LoudnessChunk& chunk,
                                      LoudnessRecords& out);

    /// How measureLoudness feeds measureLoudnessChunk: the chunk length in 100 ms steps for
    /// `channels` at `stepFrames` per step, and how many chunks may be in flight at once given the
    /// meter's thread budget. The records do not depend on it (chunks are independent to 1e-12).
    struct LoudnessFeed {
        Frames chunkSteps = 100;
        unsigned inFlight = 1;
    };
    virtual LoudnessFeed loudnessFeed(int channels, Frames stepFrames, unsigned threads) const;

    /// The multiband stage's detectors, gains and band sum for one call (lathe/MultibandKernel.h),
    /// updating `state` ([c·bands + k]). Capability::Dynamics; the default throws
    /// BackendUnavailableError.
    virtual void multibandDynamics(const MultibandParams& params, const MultibandCall& call,
                                   std::vector<BandDetectorState>& state, AudioBuffer& out,
                                   MultibandCallStats& stats);

    /// The limiter's first pass for one call (lathe/LimiterKernel.h): `y` (params.channels ×
    /// call.frames), the statistics of the reduction G (dB) in each of the call's pieces into
    /// `pieces` (call.pieces() of them, in order), and `rHistory` — R of the lookahead frames
    /// before the call (zeros at the start) — updated to the last ones of this call.
    /// Capability::LimiterPass; the default throws BackendUnavailableError.
    virtual void limiterPass(const LimiterPassParams& params, const LimiterPassCall& call,
                             std::vector<double>& rHistory, AudioBuffer& y,
                             std::vector<ReductionStats>& pieces);

    /// The spectral analysis of a batch of consecutive frames (lathe/SpectrumKernel.h).
    /// Capability::Spectrum; the default throws BackendUnavailableError.
    virtual void spectrumFrames(const SpectrumParams& params, const SpectrumCall& call,
                                SpectrumCallResult& out);

    /// Room on the device for `frames` of `channels` (Capability::ResidentTrial), or nullptr when
    /// that and the trial's own output would take more than the device can spare (the trial
    /// then runs as without the capability). The default returns nullptr.
    virtual std::unique_ptr<ResidentAudio> makeResident(int channels, Frames frames);

    /// The loudness targeting's trial over `audio` (made by this backend's makeResident, finished):
    /// the unverified limiter of `pass` run over it, as LimiterStage would run it on this backend,
    /// and its output's loudness records in chunks of `chunkFrames` (measureLoudness's, from frame
    /// 0; zeros before and after the programme) — only the records come back (loudnessFromRecords
    /// turns them into the measurement). `loudness` must be for the audio's rate. The default
    /// throws BackendUnavailableError.
    virtual std::vector<ChunkRecords> trialLoudness(const ResidentAudio& audio, const LimiterTrialPass& pass,
                                                    const LoudnessParams& loudness, Frames chunkFrames);

    /// The memory for the sample buffers handed to this backend's operations, in and out
    /// (AudioBuffer::useMemory; lathe/HostMemory.h): page-locked for a device backend, which then
    /// copies them at the bus's speed; nullptr (ordinary memory) for the CPU. The callers put the
    /// buffers they pass there first (a render's blocks, a stage's, a meter's or an analyzer's
    /// own); the operations take what they are given either way.
    virtual HostMemory* hostMemory() const { return nullptr; }

    /// The device time so far (this backend and its convolvers); none for the CPU.
    virtual std::optional<DeviceTiming> deviceTiming() const { return std::nullopt; }

    /// A streaming partitioned convolution of `matrix` (lathe/Convolution.h). Capability::Convolution.
    /// Throws UsageError for a malformed matrix; the default throws BackendUnavailableError.
    virtual std::unique_ptr<Convolver> makeConvolver(const FilterMatrix& matrix,
                                                     const ConvolverOptions& options);
};

/// The reference backend: plain loops over lathe/math.
std::unique_ptr<Backend> makeCpuBackend();

/// What a backend's probe found.
struct BackendStatus {
    std::string name;        ///< "cpu", "cuda"
    bool available = false;  ///< it can run here
    std::string description; ///< device/engine details when available
    std::string reason; ///< why not, when unavailable ("no CUDA device: cudaErrorInsufficientDriver …")
};

/// The backends compiled into this program. The engine registers "cpu"; lathe_gpu adds "cuda"
/// (lathe::gpu::registerCudaBackend) so that the engine itself never depends on CUDA.
class BackendRegistry {
public:
    using Probe = std::function<BackendStatus()>;
    using Factory = std::function<std::unique_ptr<Backend>()>;

    /// A registry holding only the CPU backend.
    BackendRegistry();

    /// Adds a backend. `preference` orders "auto": the highest available one wins (cpu is 0).
    void add(std::string name, int preference, Probe probe, Factory factory);

    /// Every compiled-in backend with its probe result, most preferred first. Probes run once.
    std::vector<BackendStatus> availableBackends() const;

    /// Creates the named backend. Throws BackendUnavailableError (with the probe's reason) if it
    /// is unknown or cannot run here.
    std::unique_ptr<Backend> makeBackend(std::string_view name) const;

    struct Selection {
        std::unique_ptr<Backend> backend;
        std::string reason; ///< e.g. "auto: cuda unavailable (no CUDA device: …); using cpu"
    };
    /// "auto" picks the most preferred available backend that supports `needed` (and says which it
    /// skipped and why); any other value is makeBackend(choice), which must support `needed`.
    Selection select(std::string_view choice, Capability needed = Capability::Render) const;

private:
    struct Entry {
        std::string name;
        int preference;
        Probe probe;
        Factory factory;
        mutable bool probed = false;
        mutable BackendStatus status;
    };
    const BackendStatus& statusOf(const Entry& e) const;
    std::vector<Entry> m_entries;
};

/// Runs `job(backend)` on the selected backend. Under --backend auto (`automatic`) a GpuError
/// mid-job (an out-of-memory or launch failure) means the GPU failed, not the job: the job runs
/// again on a new CPU backend, `sel` is updated (backend, and a reason naming the failure, which
/// the reports carry as backend_reason), and `beforeRerun` is told first. With an explicit
/// backend the error stands. Outputs are written atomically, so the failed attempt left nothing.
template <typename Job>
auto runWithCpuRerun(BackendRegistry::Selection& sel, bool automatic, Job&& job,
                     const std::function<void(const GpuError&)>& beforeRerun = {})
    -> decltype(job(*sel.backend)) {
    try {
        return job(*sel.backend);
    } catch (const GpuError& e) {
        if (!automatic) {
            throw;
        }
        if (beforeRerun) {
            beforeRerun(e);
        }
        const std::string failed(sel.backend->name());
        sel.backend = makeCpuBackend();
        sel.reason = "auto: " + failed + " failed mid-job (" + std::string(e.what()) + "); rerun on cpu";
        return job(*sel.backend);
    }
}

} // namespace lathe
