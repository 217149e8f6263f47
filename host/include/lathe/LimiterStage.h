// Lathe: true-peak look-ahead limiter whose ceiling holds (verified after the fact).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/LimiterKernel.h>
#include <lathe/Stage.h>
#include <lathe/design/LoudnessDesign.h>

#include <cstdint>
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
/// The work goes in chunks of 8192 frames, each starting where the last emitted (a fixed
/// schedule). With more than one thread, whole segments of chunks run in parallel, one a thread,
/// on a thread of their own beside the caller's: each later segment starts from silence a
/// warm-up ahead of its first chunk, and the merge keeps its chunks from the first whose starting
/// state (R, y and the boosts carried) equals, bit for bit, the state the segment before left —
/// before that it computes them again from the true state. A chunk's result is a function of its
/// state and input, so the output, bit for bit, and the report are those of one thread's chunks.
/// Otherwise (one thread, the stream's last chunks) a chunk's tiles run on the pool.
/// Without verification, on a backend with Capability::LimiterPass, the pass runs there instead
/// (lathe/LimiterKernel.h), in calls of 2^20 frames: the same D, H, R, G and y within rounding.
/// Latency 0 (look-ahead is free offline: output frames are held back until their future input has
/// arrived), no tail. A signal whose true peak is below the ceiling passes bit-exactly.
class LimiterStage final : public Stage {
public:
    /// `threads`: segments computed at once, and participants in a chunk's tiles (0 = one per
    /// hardware thread).
    /// `backend`: where an unverified limiter runs its pass, when it has Capability::LimiterPass.
    explicit LimiterStage(LimiterSpec spec, unsigned threads = 0, Backend* backend = nullptr);
    ~LimiterStage() override;
    std::string name() const override { return "limiter"; }
    StreamFormat prepare(const StreamFormat& input, Frames maxBlockFrames) override;
    void process(const AudioBuffer& in, AudioBuffer& out) override;
    void flush(AudioBuffer& out) override;
    nlohmann::json report() const override;

    /// How the parallel segments went (the class comment): the segments run, their chunks, and
    /// the chunks the merge computed again because a segment's speculative start had not yet
    /// reached the carry of the segment before. For benchmarks and tests; not in the report.
    struct SegmentStats {
        Frames segments = 0;
        Frames chunks = 0;
        Frames recomputed = 0;
    };
    SegmentStats segmentStats() const { return m_segmentStats; }

    /// After prepare(): how this stage runs on its backend when it does (unverified, on a backend
    /// with Capability::LimiterPass) — for that backend to run the same limiter over audio it
    /// holds (Backend::trialLoudness), output equal to this stage's; nullopt otherwise.
    std::optional<LimiterTrialPass> backendPass() const;

private:
    struct Carry;
    struct Tally;
    struct Held;
    class Chunker;
    struct Speculation;
    struct Batch;

    void append(const AudioBuffer& in);
    /// The input held so far.
    Held held() const;
    /// Frames of input a (non-final) chunk reads past its end.
    Frames after() const;
    /// Frames at a chunk's end computed but emitted only by the next chunk.
    Frames overlap() const;
    /// Frames from one chunk's start to the next's (0 when the look-ahead leaves no room).
    Frames step() const;
    /// Whole chunks from `from` on whose input has all arrived.
    Frames readyChunks(Frames from) const;
    /// Chunks per segment of a batch.
    Frames segmentChunks() const;
    /// The next frame no chunk has been scheduled for (past a batch in flight).
    Frames scheduled() const;
    /// The chunks on the caller's thread (one thread, or the stream's last chunks).
    bool emitInLine(AudioBuffer& out, bool final);
    /// Batches of segments: collects a finished one into `out`, starts the next when its input is
    /// all here; `final`: waits for the one in flight, runs what whole batches are left. True
    /// when it emitted or started something.
    bool emitBatches(AudioBuffer& out, bool final);
    /// True when segments run in parallel (more than one thread, room for whole chunks).
    bool segmented() const;
    /// Starts a batch of `segments` segments from scheduled(), on its own thread unless `inLine`
    /// (then collectBatch computes it).
    void startBatch(Frames segments, bool inLine);
    /// Waits for the batch in flight and moves its output into `out`, its tallies into the report.
    void collectBatch(AudioBuffer& out);
    /// Computes `batch`: its segments in parallel, then the merge.
    void runBatch(Batch& batch);
    /// The unverified pass on the backend: emits one call into `out` if a whole one's input is
    /// held (or `final`); false when nothing to do.
    bool emitOnBackend(AudioBuffer& out, bool final);
    /// The pieces (100 ms steps of the output's time axis) in which the report takes the
    /// statistics of frames [a, a + count): the pass call's, and tallyInto's (without its input).
    LimiterPassCall statsPieces(Frames a, Frames count) const;
    /// The reduction statistics of frames [a, a + emit) whose reductions (dB) are g[0 …], a piece
    /// at a time, into `t`.
    void tallyInto(Tally& t, const double* g, Frames a, Frames emit) const;
    /// Takes what `t` holds into the report (in stream order, so the sums do not depend on who
    /// computed them) and empties it.
    void commit(Tally& t);
    /// One piece's statistics, its first frame `n`, into the report.
    void tallyPiece(Frames n, const ReductionStats& st);

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
    double m_searchAbsSum = 0; ///< the ×4 kernel's largest Σ|c| over its phases
    unsigned m_threads = 1;
    std::unique_ptr<detail::ThreadPool> m_pool;
    std::unique_ptr<detail::ThreadPool> m_inLinePool; ///< one participant: a segment's own tiles
    // Input held from absolute frame m_xStart (includes history before the next frame to emit).
    std::vector<std::vector<float>> m_x;
    Frames m_xStart = 0;
    Frames m_inputFrames = 0;
    /// The stream's chunks: its carry is the true one whenever no batch is in flight.
    std::unique_ptr<Chunker> m_main;
    /// One per later segment of a batch, each starting from silence ahead of its segment.
    std::vector<std::unique_ptr<Chunker>> m_speculative;
    SegmentStats m_segmentStats;
    /// The last batch collected, kept for its buffers (the next one's are then already mapped).
    std::unique_ptr<Batch> m_spareBatch;
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
    /// The batch in flight, if any (last: destroyed, and so waited for, before what it uses).
    std::unique_ptr<Batch> m_batch;
};

} // namespace lathe
