// Lathe: true-peak look-ahead limiter whose ceiling holds (verified after the fact).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/LimiterKernel.h>
#include <lathe/Stage.h>
#include <lathe/design/LoudnessDesign.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace lathe {

class Backend;

namespace detail {
class ThreadPool;
}

struct LimiterSpec {
    double ceilingDbtp = -1.0;
    double lookaheadMs = 2.0; ///< also the attack: gain is fully down before the peak arrives
    double releaseMs = 100.0; ///< time constant of the gain-reduction's exponential return
    double inputGainDb = 0.0; ///< applied before limiting (drive)
    /// false: no verification (one pass, the ceiling is not guaranteed between samples) — only
    /// for the loudness targeting's trial, which measures the loudness and writes nothing.
    bool verify = true;
};

/// Offline true-peak limiter, one gain for all channels (ceiling per ../shared/reference/
/// gpu-and-speed.md §2.3):
///   p[n] = peak of the interval [n, n+1] (sample and ×4 interpolation, the meter's 24-tap filter)
///   D[n] = max(0, dB(max(p[n−1], p[n])) − ceiling)        attenuation needed at sample n
///   H[n] = max D[n … n+L−1]                                  look-ahead (sliding maximum)
///   R[n] = max(H[n], aR·R[n−1])                              release (exponential, in dB)
///   G[n] = mean R[n−L+1 … n]                                 attack smoothing; G[n] ≥ D[n]
///   y[n] = x[n]·10^(−G[n]/20)
/// then **verifies**: every inter-sample interval of y whose ×4 search comes within 3 dB of the
/// ceiling is measured with a ×16 64-tap Kaiser (β 10) interpolator, and within 0.5 dB with the
/// meter's own ×16 kernel too; elsewhere a bound from the input's ×4 peaks and the (smooth) gain
/// clears it without interpolating. Where an interval exceeds the ceiling, D there is raised to
/// the attenuation it had plus the excess and the chunk is computed again from there (as far as
/// the change reaches), until none does. The report's true_peak_dbtp is that ×16 measurement.
/// The tiles run on a thread pool; the output does not depend on the thread count.
/// Without verification, on a backend with Capability::LimiterPass, the pass runs there instead
/// (lathe/LimiterKernel.h), in calls of 2^20 frames: the same D, H, R, G and y within rounding.
/// Latency 0 (look-ahead is free offline: output frames are held back until their future input has
/// arrived), no tail. A signal whose true peak is below the ceiling passes bit-exactly.
class LimiterStage final : public Stage {
public:
    /// `threads`: participants in the interpolation passes (0 = one per hardware thread).
    /// `backend`: where an unverified limiter runs its pass, when it has Capability::LimiterPass.
    explicit LimiterStage(LimiterSpec spec, unsigned threads = 0, Backend* backend = nullptr);
    ~LimiterStage() override;
    std::string name() const override { return "limiter"; }
    StreamFormat prepare(const StreamFormat& input, Frames maxBlockFrames) override;
    void process(const AudioBuffer& in, AudioBuffer& out) override;
    void flush(AudioBuffer& out) override;
    nlohmann::json report() const override;

private:
    void append(const AudioBuffer& in);
    /// Frames [first, first + span) of channel c's (driven) input into `dst`, zeros where none is
    /// held: before the history kept, past what has arrived.
    void heldInput(int c, Frames first, Frames span, float* dst) const;
    /// Emits one chunk into `out` if enough input is held (or `final`); false when nothing to do.
    bool emitChunk(AudioBuffer& out, bool final);
    /// H, R, G and y for frames [from, a+e) of the chunk starting at a (working buffers) — on
    /// later passes only as far as a raised attenuation (before `boostedEnd`) can reach; returns
    /// the end of the frames whose gain changed since the last pass (all of them on the `first`).
    Frames computeGain(Frames a, Frames e, Frames from, bool first, Frames boostedEnd);
    /// The unverified pass on the backend: emits one call into `out` if a whole one's input is
    /// held (or `final`); false when nothing to do.
    bool emitOnBackend(AudioBuffer& out, bool final);
    /// The pieces (100 ms steps of the output's time axis) in which the report takes the
    /// statistics of frames [a, a + count): the pass call's, and tally()'s (without its input).
    LimiterPassCall statsPieces(Frames a, Frames count) const;
    /// The report's reduction statistics and history over frames [a, a + emit) whose reductions
    /// (dB) are g[0 …], a piece at a time.
    void tally(const double* g, Frames a, Frames emit);
    /// One piece's statistics, its first frame `n`, into the report.
    void tallyPiece(Frames n, const ReductionStats& st);
    /// Verifies the intervals [from, to) of y; raises the attenuation asked for where one exceeds
    /// the ceiling and returns the first such frame (or `to` when all hold).
    Frames verify(Frames a, Frames from, Frames to);

    LimiterSpec m_spec;
    Backend* m_backend = nullptr;
    std::optional<LimiterPassParams> m_pass; ///< set when the pass runs on m_backend
    AudioBuffer m_passIn;                    ///< one call's input, with its margins
    AudioBuffer m_passOut;
    std::vector<ReductionStats> m_passPieces; ///< one call's reduction statistics, a piece each
    SampleRate m_rate = 0;
    int m_channels = 0;
    Frames m_lookahead = 1;
    double m_releaseCoeff = 0;
    float m_inputGain = 1.0f;
    double m_ceilingLinear = 1.0;
    const design::Interpolator* m_search = nullptr;
    const design::Interpolator* m_refine = nullptr;
    const design::Interpolator* m_meterRefine = nullptr;
    /// The two ×16 kernels transposed (tap-major, 16 phases a tap) for the lanes-over-phases MAC.
    std::vector<float> m_refineByTap;
    std::vector<float> m_meterRefineByTap;
    unsigned m_threads = 1;
    std::unique_ptr<detail::ThreadPool> m_pool;
    // Input held from absolute frame m_xStart (includes history before the next frame to emit).
    std::vector<std::vector<float>> m_x;
    Frames m_xStart = 0;
    Frames m_inputFrames = 0;
    Frames m_next = 0;                          ///< next frame to emit
    std::vector<std::vector<float>> m_yHistory; ///< the last emitted frames (verification context)
    std::vector<double> m_rHistory;             ///< R of the last L emitted frames
    std::map<Frames, double> m_boost;           ///< extra attenuation (dB) found by verification, by frame
    // Working buffers of one chunk (kept to avoid reallocating them every chunk).
    Frames m_origin = 0;     ///< absolute frame of index 0 of m_xw
    Frames m_boostedEnd = 0; ///< past the last frame verify raised the attenuation of, this pass
    std::vector<std::vector<float>> m_xw, m_yw, m_peaks;
    std::vector<double> m_p, m_d, m_h, m_r, m_g;
    std::vector<float> m_gain;
    std::vector<float> m_xWindowMax;      ///< max|x| over each interval's ×4 window, all channels
    std::vector<float> m_verified;        ///< per interval of the chunk: the verified peak (or its bound)
    std::vector<std::uint8_t> m_measured; ///< 1 where m_verified is a measurement, 0 a bound
    double m_searchAbsSum = 0;            ///< the ×4 kernel's largest Σ|c| over its phases
    // Report.
    double m_maxReductionDb = 0;
    double m_sumReductionDb = 0;
    Frames m_limitedFrames = 0;
    int m_maxPasses = 1;
    Frames m_regionsRerun = 0;
    Frames m_unconvergedChunks = 0;
    float m_truePeak = 0.0f;       ///< largest measured peak of the output (linear)
    float m_truePeakBound = 0.0f;  ///< largest bound where no measurement was needed
    std::vector<double> m_history; ///< largest gain reduction (dB) per 100 ms of output
    Frames m_upstream = 0;         ///< delay of the stages before this one
};

} // namespace lathe
