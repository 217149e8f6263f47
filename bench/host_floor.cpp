// SPDX-License-Identifier: GPL-3.0-or-later
// The host's floor under a GPU master (issue 8): the whole master — decode, the stages' host work,
// the hand-overs between threads, the limiter's verification, the meters' bookkeeping, the output
// end, encode, the targeting's three steps — with every device operation made free. A backend
// claims every capability and answers each operation with the cheapest host work of the right
// shape: convolvers copy (a crossover's bands are copies of the input), the dynamics sum the
// bands, the limiter's pass clips to the ceiling, the meters' records are plain energies and
// peaks of the samples (unweighted: the targeting still converges on them), the spectra zeros.
// So its wall time is what the master would take on an infinitely fast GPU with free copies, and
// the ratio to a plain convert in the same invocation is the best issue 8's "≤ 2× convert" can be
// with the host as it is. Alternates with a master on a real backend (cpu or cuda) and a convert.
//
// Usage: host_floor FILE ROUNDS [PRESET [BACKEND [THREADS]]]
//   PRESET default (its −14 LUFS target) or any bundled preset with a target; BACKEND cpu|cuda|auto
//   (default auto) for the real master beside it, or "none"; THREADS 0 = every hardware thread.
#include <lathe/Backend.h>
#include <lathe/Master.h>
#include <lathe/RenderJob.h>
#include <lathe/gpu/Gpu.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

using namespace lathe;

namespace {

/// Output o = the sum of the inputs with a path to it (their filters ignored): a copy per path.
class CopyConvolver final : public Convolver {
public:
    CopyConvolver(const FilterMatrix& m, const ConvolverOptions& o) : m_matrix(m), m_block(o.blockFrames) {}
    Frames blockFrames() const override { return m_block; }
    /// The CUDA convolver's call size (CudaConvolver.cpp: 2^19 frames), so the stages call as there.
    Frames preferredFrames() const override { return std::max<Frames>(m_block, Frames{1} << 19); }
    int inputs() const override { return m_matrix.inputs; }
    int outputs() const override { return m_matrix.outputs; }
    void process(const AudioBuffer& in, AudioBuffer& out) override {
        prepareConvolverOutput(*this, in, out);
        out.clear();
        for (const FilterPath& p : m_matrix.paths) {
            const float* x = in.channel(p.input);
            float* y = out.channel(p.output);
            for (Frames n = 0; n < in.frames(); ++n) {
                y[n] += x[n];
            }
        }
    }

private:
    FilterMatrix m_matrix;
    Frames m_block;
};

/// "Held on the device": every kStride-th frame kept on the host (what the stand-in meter reads;
/// a device's upload costs the host little more than a copy into a reused page-locked block).
class FreeResident final : public ResidentAudio {
public:
    static constexpr Frames kStride = 40; // FreeDeviceBackend::kMeterStride
    FreeResident(int channels, Frames frames)
        : m_x(static_cast<std::size_t>(channels),
              std::vector<float>(static_cast<std::size_t>((frames + kStride - 1) / kStride))) {}
    int channels() const override { return static_cast<int>(m_x.size()); }
    Frames frames() const override { return m_frames; }
    void append(const AudioBuffer& block) override {
        for (int c = 0; c < block.channels(); ++c) {
            auto& x = m_x[static_cast<std::size_t>(c)];
            for (Frames n = (kStride - m_frames % kStride) % kStride; n < block.frames(); n += kStride) {
                x[static_cast<std::size_t>((m_frames + n) / kStride)] = block.channel(c)[n];
            }
        }
        m_frames += block.frames();
    }
    void finish() override {}
    /// Frame f (a multiple of kStride) of channel c.
    float at(int c, Frames f) const {
        return m_x[static_cast<std::size_t>(c)][static_cast<std::size_t>(f / kStride)];
    }

private:
    std::vector<std::vector<float>> m_x;
    Frames m_frames = 0;
};

/// Every capability, each device operation replaced by the cheapest host work of its shape; the
/// per-block render work (statistics, sanitising, quantising) on the CPU reference, as the CUDA
/// backend's output end does it on the host too.
class FreeDeviceBackend final : public Backend {
public:
    /// The stand-in meter reads every kMeterStride-th frame: divides every sub-block (120 frames
    /// at 48 kHz).
    static constexpr Frames kMeterStride = 40;
    /// `residentTrial`: the trial on "held" audio (Capability::ResidentTrial), else rendered.
    explicit FreeDeviceBackend(bool residentTrial) : m_residentTrial(residentTrial) {}
    bool supports(Capability c) const override { return c != Capability::ResidentTrial || m_residentTrial; }
    std::string_view name() const override { return "free-device"; }
    std::string description() const override { return "every device operation free (host_floor)"; }
    void accumulateStats(const AudioBuffer& block, Frames firstFrame,
                         std::span<math::SampleStats> stats) override {
        m_cpu->accumulateStats(block, firstFrame, stats);
    }
    Frames sanitize(AudioBuffer& block) override { return m_cpu->sanitize(block); }
    Frames quantize(const AudioBuffer& block, Frames firstFrame, const math::QuantizeParams& params,
                    std::int32_t* out) override {
        return m_cpu->quantize(block, firstFrame, params, out);
    }
    LoudnessFeed loudnessFeed(int channels, Frames stepFrames, unsigned threads) const override {
        // As the CUDA backend feeds its meters: long chunks, two in flight.
        constexpr Frames kMaxSamples = Frames{1} << 23;
        const Frames steps =
            std::clamp<Frames>(kMaxSamples / std::max<Frames>(1, stepFrames * channels), 100, 600);
        return LoudnessFeed{steps, std::clamp(threads, 1u, 2u)};
    }
    /// Σ x² per sub-block (not K-weighted) and max |x| per step as both peaks, from every
    /// kMeterStride-th frame (scaled): a device's meter costs the host nothing but the records, so
    /// the stand-in reads as little as the targeting needs to converge.
    void measureLoudnessChunk(const LoudnessParams& params, const LoudnessChunk& chunk,
                              LoudnessRecords& out) override {
        const AudioBuffer& a = *chunk.audio;
        const auto ch = static_cast<std::size_t>(a.channels());
        const Frames subs = (chunk.frames + params.subBlockFrames - 1) / params.subBlockFrames;
        const Frames steps = (chunk.frames + params.stepFrames - 1) / params.stepFrames;
        out.subBlockEnergy.assign(ch, std::vector<double>(static_cast<std::size_t>(subs), 0.0));
        out.stepSamplePeak.assign(ch, std::vector<float>(static_cast<std::size_t>(steps), 0.0f));
        out.stepTruePeakFrame.assign(ch, std::vector<double>(static_cast<std::size_t>(steps), 0.0));
        for (std::size_t c = 0; c < ch; ++c) {
            const float* x = a.channel(static_cast<int>(c)) + params.warmupFrames;
            for (Frames b = 0; b < subs; ++b) {
                const Frames end = std::min(chunk.frames, (b + 1) * params.subBlockFrames);
                double e = 0.0;
                float peak = 0.0f;
                for (Frames n = b * params.subBlockFrames; n < end; n += kMeterStride) {
                    e += static_cast<double>(x[n]) * x[n];
                    peak = std::max(peak, std::fabs(x[n]));
                }
                out.subBlockEnergy[c][static_cast<std::size_t>(b)] = e * kMeterStride;
                float& step = out.stepSamplePeak[c][static_cast<std::size_t>(b * params.subBlockFrames /
                                                                             params.stepFrames)];
                step = std::max(step, peak);
            }
        }
        out.stepTruePeak = out.stepSamplePeak;
    }
    void multibandDynamics(const MultibandParams& params, const MultibandCall& call,
                           std::vector<BandDetectorState>&, AudioBuffer& out,
                           MultibandCallStats& stats) override {
        const AudioBuffer& bands = *call.filtered;
        const int C = params.channels;
        const int K = params.bands;
        out.reset(C, bands.frames());
        out.setFrames(bands.frames());
        out.clear();
        for (int c = 0; c < C; ++c) {
            for (int k = 0; k < K; ++k) {
                const float* x = bands.channel(c * K + k);
                float* y = out.channel(c);
                for (Frames n = 0; n < bands.frames(); ++n) {
                    y[n] += x[n];
                }
            }
        }
        const auto cells = static_cast<std::size_t>(C * K);
        stats.sumGainDb.assign(cells, 0.0);
        stats.minGainDb.assign(cells, 0.0);
        stats.stepReductionDb.assign(static_cast<std::size_t>(K), {});
        stats.firstStep = 0;
    }
    void limiterPass(const LimiterPassParams& params, const LimiterPassCall& call, std::vector<double>&,
                     AudioBuffer& y, std::vector<ReductionStats>& pieces) override {
        y.reset(params.channels, call.frames);
        y.setFrames(call.frames);
        const auto ceiling = static_cast<float>(params.ceilingLinear);
        for (int c = 0; c < params.channels; ++c) {
            const float* x = call.x->channel(c) + params.before();
            float* out = y.channel(c);
            for (Frames n = 0; n < call.frames; ++n) {
                out[n] = std::clamp(x[n], -ceiling, ceiling);
            }
        }
        pieces.assign(static_cast<std::size_t>(call.pieces()), ReductionStats{});
    }
    std::unique_ptr<ResidentAudio> makeResident(int channels, Frames frames) override {
        return std::make_unique<FreeResident>(channels, frames);
    }
    /// The trial's records as measureLoudnessChunk's above, of the held audio driven and clipped
    /// to the ceiling (the limiter's pass here): the host's share of a trial on the device is nil.
    std::vector<ChunkRecords> trialLoudness(const ResidentAudio& audio, const LimiterTrialPass& pass,
                                            const LoudnessParams& params, Frames chunkFrames) override {
        const auto& held = static_cast<const FreeResident&>(audio);
        static_assert(FreeResident::kStride == kMeterStride);
        const auto ceiling = static_cast<float>(pass.params.ceilingLinear);
        std::vector<ChunkRecords> chunks;
        for (Frames start = 0; start < audio.frames(); start += chunkFrames) {
            ChunkRecords r;
            r.start = start;
            r.frames = std::min(chunkFrames, audio.frames() - start);
            AudioBuffer chunk(audio.channels(), params.warmupFrames + r.frames + params.lookaheadFrames);
            chunk.setFrames(params.warmupFrames + r.frames + params.lookaheadFrames);
            for (int c = 0; c < audio.channels(); ++c) {
                float* out = chunk.channel(c) + params.warmupFrames;
                for (Frames n = 0; n < r.frames; n += kMeterStride) { // only what the meter reads
                    out[n] = std::clamp(held.at(c, start + n) * pass.inputGain, -ceiling, ceiling);
                }
            }
            measureLoudnessChunk(params, LoudnessChunk{&chunk, start, r.frames}, r.records);
            chunks.push_back(std::move(r));
        }
        return chunks;
    }
    void spectrumFrames(const SpectrumParams& params, const SpectrumCall& call,
                        SpectrumCallResult& out) override {
        out.reset(params, call.frames);
    }
    std::unique_ptr<Convolver> makeConvolver(const FilterMatrix& matrix,
                                             const ConvolverOptions& options) override {
        validateConvolverSetup(matrix, options);
        return std::make_unique<CopyConvolver>(matrix, options);
    }

private:
    bool m_residentTrial;
    std::unique_ptr<Backend> m_cpu = makeCpuBackend();
};

double seconds(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s FILE ROUNDS [PRESET [cpu|cuda|auto|none [THREADS]]]\n", argv[0]);
        return 2;
    }
    try {
        const std::filesystem::path input = argv[1];
        const int rounds = std::atoi(argv[2]);
        const std::string preset = argc > 3 ? argv[3] : "default";
        const std::string real = argc > 4 ? argv[4] : "auto";
        BackendRegistry registry;
        gpu::registerCudaBackend(registry);
        std::unique_ptr<Backend> realBackend;
        if (real != "none") {
            BackendRegistry::Selection sel = registry.select(real);
            std::printf("real backend: %s (%s)\n", std::string(sel.backend->name()).c_str(),
                        sel.reason.c_str());
            realBackend = std::move(sel.backend);
        }
        FreeDeviceBackend free(false);
        FreeDeviceBackend freeHeld(true);
        std::unique_ptr<Backend> cpu = makeCpuBackend();
        MasterSettings s;
        s.preset = parsePreset(loadPresetDocument(preset));
        s.target = presetTarget(s.preset);
        s.threads = argc > 5 ? static_cast<unsigned>(std::atoi(argv[5])) : 0;
        ConvertSettings c;
        c.format = SampleFormat::Pcm16;
        c.threads = s.threads;
        const std::filesystem::path dir =
            std::filesystem::temp_directory_path() / ("lathe-host-floor-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        std::printf("%s, preset %s, %u thread(s) (0 = all)\n", input.filename().c_str(), preset.c_str(),
                    s.threads);
        for (int round = 0; round < rounds; ++round) {
            auto t0 = std::chrono::steady_clock::now();
            const RenderReport conv = convertFile(input, dir / "convert.wav", c, *cpu);
            const double convert = seconds(t0);
            const double programme = static_cast<double>(conv.inputFrames) / conv.inputRate;
            std::printf("convert → 16-bit (cpu): %.3f s (%.0fx real time)\n", convert, programme / convert);
            auto master = [&](Backend& backend, const char* what) {
                TargetingReport t;
                t0 = std::chrono::steady_clock::now();
                const RenderReport r = masterFile(input, dir / "master.wav", s, backend, {}, &t);
                const double wall = seconds(t0);
                double passes = 0;
                for (const auto& p : t.passes) {
                    passes += p.seconds;
                }
                std::printf(
                    "master on %s: %.3f s (%.0fx real time, %.2f× the convert) = pre-limiter %.3f "
                    "(decode %.3f, stages %.3f, output %.3f) + measure %.3f + trial %.3f + %zu pass(es) "
                    "%.3f\n",
                    what, wall, programme / wall, wall / convert, t.preLimiterRenderSeconds,
                    t.preLimiterTimes.decode, t.preLimiterTimes.stages, t.preLimiterTimes.output,
                    t.preLimiterMeasureSeconds, t.trialSeconds, t.passes.size(), passes);
                for (const auto& p : t.passes) {
                    std::printf(
                        "    pass: decode %.3f stages %.3f output %.3f (tap %.3f) encode %.3f; waits: read "
                        "%.3f sink %.3f write %.3f; measurement %.3f\n",
                        p.times.decode, p.times.stages, p.times.output, p.times.tap, p.times.encode,
                        p.times.readWait, p.times.sinkWait, p.times.writeWait, p.measureSeconds);
                }
                std::fflush(stdout);
                (void)r;
            };
            master(free, "free device");
            master(freeHeld, "free device, trial on held audio");
            if (realBackend) {
                master(*realBackend, std::string(realBackend->name()).c_str());
            }
        }
        std::filesystem::remove_all(dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "host_floor: %s\n", e.what());
        return 1;
    }
    return 0;
}
