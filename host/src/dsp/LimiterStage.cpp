// SPDX-License-Identifier: GPL-3.0-or-later
#include "../core/Simd.h"
#include "../core/ThreadPool.h"
#include "GainHistory.h"

#include <lathe/Backend.h>
#include <lathe/Error.h>
#include <lathe/LimiterStage.h>
#include <lathe/math/Dynamics.h>
#include <lathe/math/Limiter.h>
#include <lathe/math/Loudness.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <map>
#include <system_error>
#include <thread>
#include <utility>

namespace lathe {
namespace {

/// Frames emitted per chunk (the unit of verification and re-computation). Small enough that a
/// chunk's working arrays (~75 bytes a frame) stay in one core's L2 across the passes: 8192 ran
/// the 10-minute bench 0.47 s single-threaded against 0.51–0.57 s with 32768, although 7 % of
/// its frames are the overlap computed twice.
constexpr Frames kChunk = 8192;
/// Input history kept before the next frame to emit (the ×4 window reaches 11 back, p[n−1] one more).
constexpr Frames kHistory = 32;
/// Verification margin: the ×16 window reaches 32 frames ahead of an interval (and 31 back).
constexpr Frames kVerify = 32;
/// Intervals whose ×4 estimate is within this of the ceiling are measured at ×16.
constexpr double kRefineWithinDb = 3.0;
/// Passes over one chunk before giving up raising the attenuation (never reached in the tests).
constexpr int kMaxPasses = 64;
/// Added to each measured excess so a region converges from below rather than oscillating at it.
constexpr double kExcessMarginDb = 0.002;
/// The meter's ×16 kernel (shorter, rolling off sooner than the 64-tap one) is also run where the
/// 64-tap reading is within this of the ceiling: the two agree to 0.012 dB below 0.9·Nyquist.
constexpr double kMeterWithinDb = 0.5;
/// Relative allowance for float rounding in the ×4 bound (its terms are float sums of ≤ 24 products).
constexpr double kBoundRounding = 1e-5;
/// Intervals screened together by verify's bound before it looks at single intervals.
constexpr Frames kScreenBlock = 64;
/// Frames per call of the pass on a backend (LimiterPass): 22 s at 48 kHz, 8 MB of stereo.
constexpr Frames kBackendCall = Frames{1} << 20;
/// A batch's input, in samples (all channels): its segments' chunks split this between the
/// threads, within [kMinSegmentChunks, kMaxSegmentChunks] each — 32 MB of floats (84 s of 48 kHz
/// stereo on 16 threads), held by the batch, again as the next batch's input, and as output twice
/// (the segments' and the batch's); the last batch's buffers are kept for the next one's.
constexpr Frames kBatchSamples = Frames{1} << 23;
constexpr Frames kMinSegmentChunks = 8;
constexpr Frames kMaxSegmentChunks = 32;
/// How far ahead of its first chunk a later segment starts from silence (at most half a segment):
/// R there has by then usually met the true one (a new peak's H above both decays, or both
/// released to 0); where not, the merge computes its first chunks again until the states meet.
/// The 10-minute mix at +6 dB, 2 threads (112 segments): 0.25 s left 81 chunks to compute again,
/// 0.5 s 24, 0.8 s 15, 1.2 s 3. A warm-up chunk adds to every segment's time, a chunk computed
/// again to the batch's (every thread waits for the merge): on 16 threads 0.5–1.2 s cost alike.
constexpr double kWarmupSeconds = 0.5;
/// Intervals per task of the parallel interpolation passes.
constexpr Frames kTile = 1024;
/// Outputs computed together in registers by intervalPeaks (a multiple of every SIMD width).
constexpr int kLanes = 32;
/// Phases of the ×16 kernels, one SIMD lane each in refinedPeaks.
constexpr int kRefinePhases = 16;

/// out[j] = the ×F peak of the interval starting at sample j + taps/2 − 1 of `window`:
/// max(|that sample|, |Σ_i c[ph·taps + i]·window[j + i]| for ph = 1 … F−1), for j in [0, count).
/// The same products summed in the same order as math::interpolateAt (so the same values), but
/// kLanes neighbouring intervals at a time, so the compiler keeps them in SIMD registers.
LATHE_TARGET_CLONES void intervalPeaks(const float* window, const design::Interpolator& k, float* out,
                                       Frames count) {
    const int taps = k.taps;
    Frames j = 0;
    for (; j + kLanes <= count; j += kLanes) {
        float peak[kLanes];
        for (int l = 0; l < kLanes; ++l) {
            peak[l] = std::fabs(window[j + l + taps / 2 - 1]);
        }
        for (int ph = 1; ph < k.factor; ++ph) {
            const float* c = k.coeffs.data() + ph * taps;
            float acc[kLanes] = {};
            for (int i = 0; i < taps; ++i) {
                const float ci = c[i];
                const float* w = window + j + i;
                for (int l = 0; l < kLanes; ++l) {
                    acc[l] += ci * w[l];
                }
            }
            for (int l = 0; l < kLanes; ++l) {
                peak[l] = std::max(peak[l], std::fabs(acc[l]));
            }
        }
        std::copy(peak, peak + kLanes, out + j);
    }
    for (; j < count; ++j) {
        float peak = std::fabs(window[j + taps / 2 - 1]);
        for (int ph = 1; ph < k.factor; ++ph) {
            peak = std::max(peak, std::fabs(math::interpolateAt(window + j, k.coeffs.data(), taps, ph)));
        }
        out[j] = peak;
    }
}

/// out[j] = max (or, !Max, min) of v[j … j+width−1] for j in [0, count) (van Herk / Gil-Werman:
/// blocks of `width`, prefix and suffix extremes, three operations a value). `scratch` holds 2·n.
template <bool Max>
void windowExtreme(const float* v, Frames count, int width, float* out, std::vector<float>& scratch) {
    const auto n = static_cast<std::size_t>(count + width - 1);
    const auto w = static_cast<std::size_t>(width);
    scratch.resize(2 * n);
    float* prefix = scratch.data();
    float* suffix = scratch.data() + n;
    auto pick = [](float x, float y) { return Max ? std::max(x, y) : std::min(x, y); };
    for (std::size_t b = 0; b < n; b += w) {
        const std::size_t end = std::min(n, b + w);
        prefix[b] = v[b];
        for (std::size_t k = b + 1; k < end; ++k) {
            prefix[k] = pick(prefix[k - 1], v[k]);
        }
        suffix[end - 1] = v[end - 1];
        for (std::size_t k = end - 1; k > b; --k) {
            suffix[k - 1] = pick(suffix[k], v[k - 1]);
        }
    }
    for (std::size_t j = 0; j < static_cast<std::size_t>(count); ++j) {
        out[j] = pick(suffix[j], prefix[j + w - 1]);
    }
}

/// high[j] = max(v[j … j+width−1]) and, with `low`, low[j] = min of the same, for j in [0, count).
void windowExtremes(const float* v, Frames count, int width, float* high, float* low) {
    thread_local std::vector<float> scratch;
    windowExtreme<true>(v, count, width, high, scratch);
    if (low != nullptr) {
        windowExtreme<false>(v, count, width, low, scratch);
    }
}

/// gain[j] = math::limiterGain(g[j]) = 10^(−g[j]/20) (1 exactly where g[j] = 0) for j in
/// [0, count): the linear gain of a reduction in dB, the same expressions in two vectorised passes (GCC
/// pushes a float conversion of a select into its arms, which it then will not vectorise: the conversion gets
/// a statement of its own).
LATHE_TARGET_CLONES void gainsOfReduction(const double* g, std::size_t count, double* linear, float* gain) {
    for (std::size_t j = 0; j < count; ++j) {
        linear[j] = math::dbToLinear(-g[j]);
    }
    for (std::size_t j = 0; j < count; ++j) {
        const auto f = static_cast<float>(linear[j]);
        gain[j] = g[j] > 0.0 ? f : 1.0f;
    }
}

/// bound[j] = gMax[j]·p[j]·scale + (gMax[j] − gMin[j])·spread·xMax[j] for j in [0, count): the
/// bound on the ×4 search of y = x·gain used by verify (a vectorised pass).
LATHE_TARGET_CLONES void searchBounds(const float* gMax, const float* gMin, const double* p,
                                      const float* xMax, Frames count, double spread, double scale,
                                      double* bound) {
    for (Frames j = 0; j < count; ++j) {
        bound[j] = static_cast<double>(gMax[j]) * p[j] * scale +
                   static_cast<double>(gMax[j] - gMin[j]) * spread * static_cast<double>(xMax[j]);
    }
}

/// reductionStats' partial sums: the largest, the sum and the count of positive values of a run
/// of gain reductions (dB, ≥ 0), in one vectorised pass.
constexpr int kStatLanes = 8;

LATHE_TARGET_CLONES ReductionStats reductionStats(const double* g, Frames count) {
    double max[kStatLanes] = {};
    double sum[kStatLanes] = {};
    Frames positive[kStatLanes] = {};
    Frames n = 0;
    for (; n + kStatLanes <= count; n += kStatLanes) {
        for (int l = 0; l < kStatLanes; ++l) {
            const double v = g[n + l];
            max[l] = std::max(max[l], v);
            sum[l] += v;
            positive[l] += v > 0.0 ? 1 : 0;
        }
    }
    for (; n < count; ++n) {
        max[0] = std::max(max[0], g[n]);
        sum[0] += g[n];
        positive[0] += g[n] > 0.0 ? 1 : 0;
    }
    ReductionStats s;
    for (int l = 0; l < kStatLanes; ++l) {
        s.max = std::max(s.max, max[l]);
        s.sum += sum[l];
        s.count += positive[l];
    }
    return s;
}

/// *measured = max(*measured, v[j] where isMeasured[j]), *bound likewise where not (in lanes).
LATHE_TARGET_CLONES void largestMeasured(const float* v, const std::uint8_t* isMeasured, Frames count,
                                         float* measured, float* bound) {
    float m[kStatLanes];
    float b[kStatLanes];
    std::fill(m, m + kStatLanes, *measured);
    std::fill(b, b + kStatLanes, *bound);
    Frames n = 0;
    for (; n + kStatLanes <= count; n += kStatLanes) {
        for (int l = 0; l < kStatLanes; ++l) {
            const bool yes = isMeasured[n + l] != 0;
            m[l] = std::max(m[l], yes ? v[n + l] : 0.0f);
            b[l] = std::max(b[l], yes ? 0.0f : v[n + l]);
        }
    }
    for (; n < count; ++n) {
        const bool yes = isMeasured[n] != 0;
        m[0] = std::max(m[0], yes ? v[n] : 0.0f);
        b[0] = std::max(b[0], yes ? 0.0f : v[n]);
    }
    for (int l = 0; l < kStatLanes; ++l) {
        *measured = std::max(*measured, m[l]);
        *bound = std::max(*bound, b[l]);
    }
}

/// acc[j] = max(acc[j], |x[j]|).
LATHE_TARGET_CLONES void accumulateAbsMax(const float* x, Frames count, float* acc) {
    for (Frames j = 0; j < count; ++j) {
        acc[j] = std::max(acc[j], std::fabs(x[j]));
    }
}

/// A ×16 kernel tap-major with phase 0 zeroed: byTap[i·16 + ph] = coeff[ph·taps + i].
std::vector<float> byTap(const design::Interpolator& k) {
    LATHE_EXPECTS(k.factor == kRefinePhases, "verification kernels are ×16");
    std::vector<float> t(static_cast<std::size_t>(k.taps * kRefinePhases), 0.0f);
    for (int ph = 1; ph < kRefinePhases; ++ph) {
        for (int i = 0; i < k.taps; ++i) {
            t[static_cast<std::size_t>(i * kRefinePhases + ph)] =
                k.coeffs[static_cast<std::size_t>(ph * k.taps + i)];
        }
    }
    return t;
}

/// Intervals refined together by refinedPeaks (independent accumulators: the adds of one
/// interval form a chain of `taps` dependent operations, so one at a time waits on latency).
constexpr int kRefineGroup = 4;

/// 16 floats: one ×16 phase a lane (GCC vector extension: AVX2 runs it as two registers).
using Phases = float __attribute__((vector_size(kRefinePhases * sizeof(float))));

/// peaks[g] = max over phases 1 … 15 of |interpolation| at interval g (`windows[g]` at its first
/// tap), for g < count ≤ kRefineGroup. Each lane sums the same products in the same order as
/// math::interpolateAt, so the values are the same as its.
LATHE_TARGET_CLONES void refinedPeaks(const float* const* windows, int count, const float* kernelByTap,
                                      int taps, float* peaks) {
    const float* w[kRefineGroup];
    for (int g = 0; g < kRefineGroup; ++g) {
        w[g] = windows[g < count ? g : 0];
    }
    Phases acc[kRefineGroup] = {};
    for (int i = 0; i < taps; ++i) {
        Phases c;
        std::memcpy(&c, kernelByTap + i * kRefinePhases, sizeof c);
        for (int g = 0; g < kRefineGroup; ++g) {
            acc[g] += c * w[g][i];
        }
    }
    for (int g = 0; g < count; ++g) {
        float peak = 0.0f;
        for (int l = 0; l < kRefinePhases; ++l) {
            peak = std::max(peak, std::fabs(acc[g][l]));
        }
        peaks[g] = peak;
    }
}

/// Tiles of [0, count) for parallelFor.
std::size_t tilesOf(Frames count) {
    return static_cast<std::size_t>((std::max<Frames>(count, 0) + kTile - 1) / kTile);
}

} // namespace

/// The state a chunk leaves the next: everything its output depends on besides the input.
struct LimiterStage::Carry {
    Frames next = 0; ///< the next frame to emit
    /// y of the last kVerify frames emitted, per channel (verification's context).
    std::vector<std::vector<float>> yHistory;
    std::vector<double> rHistory;   ///< R of the last L frames emitted
    std::map<Frames, double> boost; ///< verification's extra attenuation (dB) of frames ≥ next

    /// Bit for bit (−0 and 0 differ: either may decide a later sign).
    bool sameAs(const Carry& o) const {
        auto sameBits = [](const auto& x, const auto& y) {
            return x.size() == y.size() &&
                   (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof x[0]) == 0);
        };
        if (next != o.next || !sameBits(rHistory, o.rHistory) || yHistory.size() != o.yHistory.size() ||
            boost.size() != o.boost.size()) {
            return false;
        }
        for (std::size_t c = 0; c < yHistory.size(); ++c) {
            if (!sameBits(yHistory[c], o.yHistory[c])) {
                return false;
            }
        }
        return std::equal(boost.begin(), boost.end(), o.boost.begin(), [](const auto& p, const auto& q) {
            return p.first == q.first && std::memcmp(&p.second, &q.second, sizeof p.second) == 0;
        });
    }
};

/// What chunks add to the report, held until the stage takes it in stream order.
struct LimiterStage::Tally {
    std::vector<std::pair<Frames, ReductionStats>> pieces; ///< (first frame, statistics) per piece
    float truePeak = 0.0f;
    float truePeakBound = 0.0f;
    Frames regionsRerun = 0;
    Frames unconverged = 0;
    int maxPasses = 1;
};

/// Input (driven) held from absolute frame `start` up to `end`, zeros elsewhere; element 0 of x's
/// channels is frame `origin` (≤ start).
struct LimiterStage::Held {
    const std::vector<std::vector<float>>* x = nullptr;
    Frames origin = 0;
    Frames start = 0;
    Frames end = 0;

    /// Frames [first, first + span) of channel c into `dst`.
    void copy(int c, Frames first, Frames span, float* dst) const {
        const Frames have0 = std::clamp(start, first, first + span);
        const Frames have1 = std::clamp(end, have0, first + span);
        std::fill(dst, dst + (have0 - first), 0.0f);
        if (have1 > have0) {
            const auto& ch = (*x)[static_cast<std::size_t>(c)];
            std::copy(ch.begin() + (have0 - origin), ch.begin() + (have1 - origin), dst + (have0 - first));
        }
        std::fill(dst + (have1 - first), dst + span, 0.0f);
    }
};

/// One run of chunks: the state carried from each to the next, the working buffers, and what the
/// chunks add to the report until the stage takes it.
class LimiterStage::Chunker {
public:
    explicit Chunker(const LimiterStage& stage) : s(stage) {}

    /// Starts at frame `next` from silence (the stream's start, or a segment's warm-up).
    void reset(Frames next) {
        carry.next = next;
        carry.yHistory.assign(static_cast<std::size_t>(s.m_channels), std::vector<float>(kVerify, 0.0f));
        carry.rHistory.assign(static_cast<std::size_t>(s.m_lookahead), 0.0);
        carry.boost.clear();
        const auto channels = static_cast<std::size_t>(s.m_channels);
        m_xw.resize(channels);
        m_yw.resize(channels);
        m_peaks.resize(channels);
    }

    /// Emits the chunk at carry.next into `out` (after what it holds) if `in` holds all its input
    /// (or `final`), its tiles on `pool`; false when there is nothing to do.
    bool emitChunk(const Held& in, AudioBuffer& out, bool final, detail::ThreadPool& pool);

    Carry carry;
    Tally tally;

private:
    /// H, R, G and y for frames [from, a+e) of the chunk starting at a (working buffers) — on
    /// later passes only as far as a raised attenuation (before `boostedEnd`) can reach; returns
    /// the end of the frames whose gain changed since the last pass (all of them on the `first`).
    Frames computeGain(Frames a, Frames e, Frames from, bool first, Frames boostedEnd);
    /// Verifies the intervals [from, to) of y; raises the attenuation asked for where one exceeds
    /// the ceiling and returns the first such frame (or `to` when all hold).
    Frames verify(Frames a, Frames from, Frames to);

    const LimiterStage& s;
    detail::ThreadPool* m_pool = nullptr;
    // Working buffers of one chunk (kept to avoid reallocating them every chunk).
    Frames m_origin = 0;     ///< absolute frame of index 0 of m_xw
    Frames m_boostedEnd = 0; ///< past the last frame verify raised the attenuation of, this pass
    std::vector<std::vector<float>> m_xw, m_yw, m_peaks;
    std::vector<double> m_p, m_d, m_h, m_r, m_g;
    std::vector<float> m_gain;
    std::vector<float> m_xWindowMax;      ///< max|x| over each interval's ×4 window, all channels
    std::vector<float> m_verified;        ///< per interval of the chunk: the verified peak (or its bound)
    std::vector<std::uint8_t> m_measured; ///< 1 where m_verified is a measurement, 0 a bound
};

/// A later segment of a batch as computed from its warm-up: the carry each chunk started from,
/// where its output ends, and what it adds to the report.
struct LimiterStage::Speculation {
    std::vector<Carry> starts;
    std::vector<Frames> ends;
    std::vector<Tally> tallies;
    AudioBuffer out;
    AudioBuffer warmup; ///< the warm-up's output (discarded)
};

/// Segments computed together from `first` on: the input they read (the stage's, handed over),
/// and after the merge their output and what they add to the report. Kept for the next batch once
/// collected, with its buffers: a batch's 32 MB taken fresh from the system each time cost more
/// (page faults, zeroing) than its merge.
struct LimiterStage::Batch {
    Frames first = 0;
    Frames segments = 0;
    Frames segmentChunks = 0;
    Frames end = 0; ///< where the chunk after its last starts
    std::vector<std::vector<float>> x;
    Frames xOrigin = 0; ///< the frame of x's element 0
    Frames xStart = 0;
    Frames xEnd = 0;
    AudioBuffer out;
    std::vector<Tally> tallies;
    std::vector<Speculation> later; ///< segments 1, 2, …
    std::future<void> done;

    Held held() const { return {&x, xOrigin, xStart, xEnd}; }
};

LimiterStage::LimiterStage(LimiterSpec spec, unsigned threads, Backend* backend)
    : m_spec(spec), m_backend(backend), m_threads(detail::threadBudget(threads)) {}

// A batch in flight is waited for by its future's destructor (std::async's), m_batch being
// destroyed first; its error, if any, goes with it: the render has already failed.
LimiterStage::~LimiterStage() = default;

StreamFormat LimiterStage::prepare(const StreamFormat& input, Frames) {
    m_batch.reset(); // waits for one in flight
    m_rate = input.sampleRate;
    m_channels = input.channels;
    m_lookahead = std::max<Frames>(1, static_cast<Frames>(std::llround(m_spec.lookaheadMs * 1e-3 * m_rate)));
    m_releaseCoeff = math::onePoleCoefficient(m_spec.releaseMs * 1e-3, m_rate);
    m_inputGain = static_cast<float>(math::dbToLinear(m_spec.inputGainDb));
    m_ceilingLinear = math::dbToLinear(m_spec.ceilingDbtp);
    m_search = &design::truePeakSearchInterpolator();
    // Verification uses a longer, flatter ×16 kernel than the meter (64 taps, β = 10, flat much
    // closer to Nyquist): full-band material near fs/2 is where short kernels disagree.
    static const design::Interpolator verify = design::designInterpolator(16, 64, 10.0);
    m_refine = &verify;
    // … and the meter's own ×16 kernel as well, so `lathe analyze` reads the ceiling as held too.
    m_meterRefine = &design::truePeakRefineInterpolator();
    m_searchAbsSum = 0.0;
    for (int ph = 0; ph < m_search->factor; ++ph) {
        double sum = 0.0;
        for (int i = 0; i < m_search->taps; ++i) {
            sum += std::fabs(m_search->coeffs[static_cast<std::size_t>(ph * m_search->taps + i)]);
        }
        m_searchAbsSum = std::max(m_searchAbsSum, sum);
    }
    m_refineByTap = byTap(*m_refine);
    m_meterRefineByTap = byTap(*m_meterRefine);
    m_pool = std::make_unique<detail::ThreadPool>(m_threads);
    m_inLinePool = std::make_unique<detail::ThreadPool>(1);
    m_x.assign(static_cast<std::size_t>(m_channels), {});
    m_xStart = 0;
    m_inputFrames = 0;
    // The gain must already be down at frame 0 when the first samples are loud: the limiter runs
    // from L frames before the start (silence there), and those frames are not emitted.
    m_main = std::make_unique<Chunker>(*this);
    m_main->reset(-m_lookahead);
    m_speculative.clear();
    m_segmentStats = {};
    m_history.clear();
    m_truePeak = 0.0f;
    m_truePeakBound = 0.0f;
    m_upstream = input.upstreamLatency;
    m_pass.reset();
    if (!m_spec.verify && m_backend != nullptr && m_backend->supports(Capability::LimiterPass)) {
        LimiterPassParams p;
        p.channels = m_channels;
        p.lookahead = m_lookahead;
        p.releaseCoeff = m_releaseCoeff;
        p.ceilingLinear = m_ceilingLinear;
        p.search = m_search;
        m_pass = p;
    }
    return input;
}

void LimiterStage::append(const AudioBuffer& in) {
    for (int c = 0; c < m_channels; ++c) {
        auto& x = m_x[static_cast<std::size_t>(c)];
        const float* s = in.channel(c);
        const std::size_t old = x.size();
        x.resize(old + static_cast<std::size_t>(in.frames()));
        for (Frames n = 0; n < in.frames(); ++n) {
            x[old + static_cast<std::size_t>(n)] = s[n] * m_inputGain;
        }
    }
    m_inputFrames += in.frames();
}

LimiterStage::Held LimiterStage::held() const {
    return {&m_x, m_xStart, m_xStart, m_inputFrames};
}

Frames LimiterStage::after() const {
    return kVerify + m_lookahead + 13; // the ×4 windows of p up to a + e + L, past y's kVerify
}

Frames LimiterStage::overlap() const {
    // A later chunk's verification can still change these: its boosts reach 2L back (through the
    // look-ahead maximum and the attack average) and the ×16 window 32 more. They are computed and
    // verified but emitted (frozen) only by the next chunk, with every boost known.
    return 2 * m_lookahead + kVerify + 64;
}

Frames LimiterStage::step() const {
    return std::max<Frames>(0, kChunk - overlap());
}

Frames LimiterStage::readyChunks(Frames from) const {
    const Frames room = m_inputFrames - from - kChunk - after();
    return step() > 0 && room >= 0 ? room / step() + 1 : 0;
}

Frames LimiterStage::segmentChunks() const {
    const Frames perSegment = kBatchSamples / (static_cast<Frames>(m_threads) * step() * m_channels);
    return std::clamp(perSegment, kMinSegmentChunks, kMaxSegmentChunks);
}

bool LimiterStage::segmented() const {
    return m_threads > 1 && step() > 0;
}

Frames LimiterStage::scheduled() const {
    return m_batch ? m_batch->end : m_main->carry.next;
}

void LimiterStage::process(const AudioBuffer& in, AudioBuffer& out) {
    append(in);
    out.reset(m_channels, 0);
    if (m_pass) {
        while (emitOnBackend(out, false)) {
        }
    } else if (segmented()) {
        emitBatches(out, false);
    } else {
        emitInLine(out, false);
    }
    // Drop input no longer needed (keep kHistory frames before the next chunk; a batch in flight
    // has its own copy): once a block, not once a chunk, as it moves what is left.
    const Frames keepFrom = std::max(m_xStart, scheduled() - kHistory);
    if (keepFrom > m_xStart) {
        for (auto& x : m_x) {
            x.erase(x.begin(), x.begin() + (keepFrom - m_xStart));
        }
        m_xStart = keepFrom;
    }
}

void LimiterStage::flush(AudioBuffer& out) {
    out.reset(m_channels, 0);
    if (m_pass) {
        emitOnBackend(out, true);
    } else if (!(segmented() && emitBatches(out, true))) {
        emitInLine(out, true);
    }
}

bool LimiterStage::emitInLine(AudioBuffer& out, bool final) {
    // Every whole chunk whose input is here, as process() would have (the same schedule whatever
    // the thread count); once none is left, with `final`, one of the stream's last chunks a call
    // (flush's calls go on until nothing is emitted).
    bool any = false;
    while (m_main->emitChunk(held(), out, false, *m_pool)) {
        commit(m_main->tally);
        any = true;
    }
    if (final && !any && m_main->emitChunk(held(), out, true, *m_pool)) {
        commit(m_main->tally);
        any = true;
    }
    return any;
}

bool LimiterStage::emitBatches(AudioBuffer& out, bool final) {
    const Frames perSegment = segmentChunks();
    if (final) {
        if (m_batch) {
            collectBatch(out);
            return true;
        }
        // The stream's end: what whole segments are left, two or more, in one batch here.
        const Frames segments = std::min<Frames>(m_threads, readyChunks(scheduled()) / perSegment);
        if (segments < 2) {
            return false;
        }
        startBatch(segments, true);
        collectBatch(out);
        return true;
    }
    // One batch in flight at most: the next one's input waits here (the caller's back-pressure)
    // until that one is collected; its first segment needs the carry that one leaves.
    const Frames full = static_cast<Frames>(m_threads) * perSegment;
    const bool nextReady = readyChunks(scheduled()) >= full;
    if (m_batch &&
        (nextReady || m_batch->done.wait_for(std::chrono::seconds(0)) == std::future_status::ready)) {
        collectBatch(out);
    }
    if (!m_batch && readyChunks(scheduled()) >= full) {
        startBatch(static_cast<Frames>(m_threads), false);
        return true;
    }
    return out.frames() > 0;
}

void LimiterStage::startBatch(Frames segments, bool inLine) {
    std::unique_ptr<Batch> batch = m_spareBatch ? std::move(m_spareBatch) : std::make_unique<Batch>();
    batch->tallies.clear();
    batch->first = m_main->carry.next;
    batch->segments = segments;
    batch->segmentChunks = segmentChunks();
    batch->end = batch->first + segments * batch->segmentChunks * step();
    // The input its chunks read: the stage's own, handed over (the stage goes on growing its
    // next batch's input meanwhile, in the vectors the last batch had, from a copy of what the
    // two share: kHistory frames and those the batch's last chunk reads past its end).
    // (Before the stream's frame 0 nothing is held: zeros, for the batch as for the stage.)
    batch->xStart = std::max(batch->first - kHistory, m_xStart);
    batch->xEnd = batch->end - step() + kChunk + after();
    LATHE_EXPECTS(batch->xStart <= std::max<Frames>(0, batch->first - kHistory) &&
                      batch->xEnd <= m_inputFrames,
                  "a batch's input is all held");
    batch->xOrigin = m_xStart;
    batch->x.resize(static_cast<std::size_t>(m_channels));
    const Frames keep = std::max(m_xStart, batch->end - kHistory); // the stage's next m_xStart
    for (int c = 0; c < m_channels; ++c) {
        auto& mine = batch->x[static_cast<std::size_t>(c)];
        auto& stages = m_x[static_cast<std::size_t>(c)];
        std::swap(mine, stages);
        stages.assign(mine.begin() + (keep - m_xStart), mine.end());
    }
    m_xStart = keep;
    while (static_cast<Frames>(m_speculative.size()) < segments - 1) {
        m_speculative.push_back(std::make_unique<Chunker>(*this));
    }
    Batch& b = *batch;
    m_batch = std::move(batch);
    // In line (or with no thread to be had): deferred, computed by collectBatch's get().
    const auto run = [this, &b] { runBatch(b); };
    if (!inLine) {
        try {
            b.done = std::async(std::launch::async, run);
            return;
        } catch (const std::system_error&) {
            // No thread to be had: the same batch, deferred.
        }
    }
    b.done = std::async(std::launch::deferred, run);
}

void LimiterStage::collectBatch(AudioBuffer& out) {
    std::unique_ptr<Batch> batch = std::move(m_batch);
    batch->done.get(); // rethrows what the batch threw
    if (out.frames() == 0) {
        std::swap(out, batch->out);
    } else {
        out.append(batch->out, 0, batch->out.frames());
    }
    for (Tally& t : batch->tallies) {
        commit(t);
    }
    m_spareBatch = std::move(batch);
}

void LimiterStage::runBatch(Batch& batch) {
    const Held in = batch.held();
    const Frames perSegment = batch.segmentChunks;
    const auto warmupFrames = static_cast<Frames>(std::ceil(kWarmupSeconds * m_rate));
    const Frames warmup = std::min(perSegment / 2, (warmupFrames + step() - 1) / step());
    std::vector<Speculation>& later = batch.later;
    later.resize(static_cast<std::size_t>(batch.segments - 1));
    batch.out.reset(m_channels, batch.segments * perSegment * step()); // room for all of it
    // Every segment on a thread of the pool: the first continues the stream (m_main), each later
    // one from silence `warmup` chunks before its first chunk.
    m_pool->parallelFor(static_cast<std::size_t>(batch.segments), [&](std::size_t s, unsigned) {
        if (s == 0) {
            for (Frames k = 0; k < perSegment; ++k) {
                const bool emitted = m_main->emitChunk(in, batch.out, false, *m_inLinePool);
                LATHE_EXPECTS(emitted, "a batch's chunks have all their input");
                batch.tallies.push_back(std::exchange(m_main->tally, {}));
            }
            return;
        }
        Chunker& ch = *m_speculative[s - 1];
        Speculation& spec = later[s - 1];
        const Frames begin = batch.first + static_cast<Frames>(s) * perSegment * step();
        ch.reset(begin - warmup * step());
        spec.warmup.reset(m_channels, warmup * step());
        for (Frames k = 0; k < warmup; ++k) {
            ch.emitChunk(in, spec.warmup, false, *m_inLinePool);
        }
        LATHE_EXPECTS(ch.carry.next == begin, "a warm-up ends where its segment begins");
        spec.starts.clear();
        spec.ends.clear();
        spec.tallies.clear();
        spec.out.reset(m_channels, perSegment * step());
        for (Frames k = 0; k < perSegment; ++k) {
            spec.starts.push_back(ch.carry);
            ch.tally = {};
            const bool emitted = ch.emitChunk(in, spec.out, false, *m_inLinePool);
            LATHE_EXPECTS(emitted, "a batch's chunks have all their input");
            spec.ends.push_back(spec.out.frames());
            spec.tallies.push_back(std::exchange(ch.tally, {}));
        }
    });
    // The merge: each later segment's chunks from the first that began from the true carry (the
    // one m_main holds); the chunks before that are computed again from it, on the whole pool.
    // The speculative output kept is copied into place afterwards, all segments' at once.
    struct Kept {
        const AudioBuffer* from;
        Frames offset, count, at;
    };
    std::vector<Kept> kept;
    for (std::size_t s = 0; s < later.size(); ++s) {
        Speculation& spec = later[s];
        Frames k = 0;
        for (; k < perSegment && !m_main->carry.sameAs(spec.starts[static_cast<std::size_t>(k)]); ++k) {
            m_main->emitChunk(in, batch.out, false, *m_pool);
            batch.tallies.push_back(std::exchange(m_main->tally, {}));
            ++m_segmentStats.recomputed;
        }
        if (k < perSegment) {
            const Frames from = k > 0 ? spec.ends[static_cast<std::size_t>(k - 1)] : 0;
            kept.push_back({&spec.out, from, spec.out.frames() - from, batch.out.frames()});
            batch.out.setFrames(batch.out.frames() + (spec.out.frames() - from)); // within its room
            for (; k < perSegment; ++k) {
                batch.tallies.push_back(std::move(spec.tallies[static_cast<std::size_t>(k)]));
            }
            m_main->carry = m_speculative[s]->carry;
        }
    }
    m_pool->parallelFor(kept.size() * static_cast<std::size_t>(m_channels), [&](std::size_t i, unsigned) {
        const Kept& piece = kept[i / static_cast<std::size_t>(m_channels)];
        const int c = static_cast<int>(i % static_cast<std::size_t>(m_channels));
        std::copy_n(piece.from->channel(c) + piece.offset, piece.count, batch.out.channel(c) + piece.at);
    });
    LATHE_EXPECTS(m_main->carry.next == batch.end, "a batch ends where its last segment does");
    m_segmentStats.segments += batch.segments;
    m_segmentStats.chunks += batch.segments * perSegment;
}

std::optional<LimiterTrialPass> LimiterStage::backendPass() const {
    if (!m_pass) {
        return std::nullopt;
    }
    // As emitOnBackend runs it: the input driven as append() drives it, the calls from the
    // Chunker's first frame (prepare: −L) kBackendCall long.
    return LimiterTrialPass{*m_pass, m_inputGain, -m_lookahead, kBackendCall};
}

bool LimiterStage::emitOnBackend(AudioBuffer& out, bool final) {
    const Frames before = m_pass->before();
    const Frames after = m_pass->after();
    const Frames a = m_main->carry.next;
    const Frames held = m_inputFrames - a; // frames from a on that have arrived
    if (!final && held - after < kBackendCall) {
        return false; // wait for a whole call: the device pays per call, not per frame
    }
    const Frames count = std::min(held, kBackendCall);
    if (count <= 0) {
        return false;
    }
    // The call's input with its margins, zeros before the start and past the end.
    const Frames span = before + count + after;
    m_passIn.useMemory(m_backend->hostMemory());  // where the device copies from and to fastest
    m_passOut.useMemory(m_backend->hostMemory()); // (it may have been swapped for the output's)
    m_passIn.reset(m_channels, span);
    m_passIn.setFrames(span);
    for (int c = 0; c < m_channels; ++c) {
        this->held().copy(c, a - before, span, m_passIn.channel(c));
    }
    // The report's statistics in the pieces tallyInto() takes, reduced where the pass ran.
    LimiterPassCall call = statsPieces(a, count);
    call.x = &m_passIn;
    m_backend->limiterPass(*m_pass, call, m_main->carry.rHistory, m_passOut, m_passPieces);
    LATHE_EXPECTS(static_cast<Frames>(m_passPieces.size()) == call.pieces(),
                  "limiter pass: one statistics entry a piece");
    // Emit (without the lead-in before frame 0) and tally.
    const Frames skip = std::clamp<Frames>(-a, 0, count);
    if (out.frames() == 0 && skip == 0) {
        std::swap(out, m_passOut); // handed over, not copied: the next call refills the other buffer
    } else {
        out.append(m_passOut, skip, count - skip);
    }
    for (Frames k = 0; k < call.pieces(); ++k) {
        tallyPiece(a + call.pieceBegin(k), m_passPieces[static_cast<std::size_t>(k)]);
    }
    m_main->carry.next = a + count;
    return true;
}

Frames LimiterStage::Chunker::computeGain(Frames a, Frames e, Frames from, bool first, Frames boostedEnd) {
    const Frames L = s.m_lookahead;
    const auto Ls = static_cast<std::size_t>(L);
    const auto i0 = static_cast<std::size_t>(from - a);
    // Tiles of [i0, end) for parallelFor.
    auto tiling = [&](std::size_t end) { return tilesOf(static_cast<Frames>(end > i0 ? end - i0 : 0)); };
    auto tileOf = [&](std::size_t t, std::size_t end) {
        const std::size_t t0 = i0 + t * static_cast<std::size_t>(kTile);
        return std::pair{t0, std::min(end, t0 + static_cast<std::size_t>(kTile))};
    };
    // D = the attenuation the ×4 peaks ask for (emitChunk), plus what verification added: on the
    // first pass the boosts carried from the last chunk, on later passes verify has raised m_d
    // itself, and H can only have changed up to the last raised frame.
    auto hEnd = static_cast<std::size_t>(e);
    if (first) {
        for (auto it = carry.boost.lower_bound(from); it != carry.boost.end() && it->first < a + e + L - 1;
             ++it) {
            m_d[static_cast<std::size_t>(it->first - a)] += it->second;
        }
    } else {
        hEnd = std::min(hEnd, static_cast<std::size_t>(boostedEnd - a));
    }
    // H[n] = max D[n … n+L−1], in tiles (van Herk / Gil-Werman within each: blocks of L, prefix
    // and suffix maxima, H = max(suffix at n, prefix at n+L−1)).
    m_pool->parallelFor(tiling(hEnd), [&](std::size_t t, unsigned) {
        const auto [t0, t1] = tileOf(t, hEnd);
        const std::size_t span = t1 - t0 + Ls - 1;
        const double* d = m_d.data() + t0;
        std::vector<double> prefix(span);
        std::vector<double> suffix(span);
        for (std::size_t b = 0; b < span; b += Ls) {
            const std::size_t end = std::min(span, b + Ls);
            prefix[b] = d[b];
            for (std::size_t k = b + 1; k < end; ++k) {
                prefix[k] = std::max(prefix[k - 1], d[k]);
            }
            suffix[end - 1] = d[end - 1];
            for (std::size_t k = end - 1; k > b; --k) {
                suffix[k - 1] = std::max(suffix[k], d[k - 1]);
            }
        }
        for (std::size_t i = 0; i < t1 - t0; ++i) {
            m_h[t0 + i] = std::max(suffix[i], prefix[i + Ls - 1]);
        }
    });
    // R: the release recursion, the one sequential step. m_r holds R from frame a − L on (the
    // first L values are the last chunk's: the release's start and the attack mean's window), so
    // R of frame a+i is r[i] = m_r[i + L].
    double* r = m_r.data() + Ls;
    // Past the frames whose H changed, once R equals what it was it stays so: stop there.
    double rPrev = r[static_cast<std::ptrdiff_t>(i0) - 1];
    auto rEnd = static_cast<std::size_t>(e);
    for (auto i = i0; i < static_cast<std::size_t>(e); ++i) {
        const double rn = math::limiterReleaseStep(m_h[i], rPrev, s.m_releaseCoeff); // 0 once released
        if (!first && i >= hEnd && rn == r[i]) {
            rEnd = i;
            break;
        }
        r[i] = rn;
        rPrev = rn;
    }
    // G reads R over L frames: it can have changed up to L − 1 frames past the last changed R.
    const std::size_t gEnd = std::min(static_cast<std::size_t>(e), rEnd + Ls - 1);
    // G (the mean of R over the last L frames), the gain and y, in tiles; where the gain has not
    // changed since the last pass, neither has y.
    const double invL = 1.0 / static_cast<double>(L);
    const auto at = static_cast<std::size_t>(a - m_origin);
    std::vector<std::size_t> changedEnd(std::max<std::size_t>(1, tiling(gEnd)), 0);
    m_pool->parallelFor(tiling(gEnd), [&](std::size_t t, unsigned) {
        const auto [t0, t1] = tileOf(t, gEnd);
        // The running sum, restarted every tile: R values > 0 in the window are counted, and
        // none means G is exactly 0 (no rounding drift left after a release).
        const double* window = r - (Ls - 1); // window[i] = R of frame a + i − (L − 1)
        double rSum = 0.0;
        std::int64_t nonZero = 0;
        for (std::size_t i = t0; i < t0 + Ls - 1; ++i) {
            rSum += window[i];
            nonZero += window[i] > 0.0 ? 1 : 0;
        }
        for (std::size_t i = t0; i < t1; ++i) {
            const double rn = r[i];
            rSum += rn;
            nonZero += rn > 0.0 ? 1 : 0;
            m_g[i] = nonZero > 0 ? std::max(0.0, rSum * invL) : 0.0;
            const double leaving = window[i]; // R of frame a + i − (L − 1): out of the next window
            rSum -= leaving;
            nonZero -= leaving > 0.0 ? 1 : 0;
        }
        std::vector<double> linear(t1 - t0);
        std::vector<float> gain(t1 - t0);
        gainsOfReduction(m_g.data() + t0, t1 - t0, linear.data(), gain.data());
        std::size_t changed = first ? t1 - t0 : 0; // the end of the frames whose gain changed
        for (std::size_t j = t1 - t0; j > changed; --j) {
            if (gain[j - 1] != m_gain[t0 + j - 1]) {
                changed = j;
                break;
            }
        }
        changedEnd[t] = changed > 0 ? t0 + changed : 0;
        std::copy(gain.begin(), gain.end(), m_gain.begin() + static_cast<std::ptrdiff_t>(t0));
        for (int c = 0; c < s.m_channels; ++c) {
            const float* x = m_xw[static_cast<std::size_t>(c)].data() + at;
            float* y = m_yw[static_cast<std::size_t>(c)].data() + kVerify;
            for (std::size_t i = t0; i < t1; ++i) {
                y[i] = x[i] * m_gain[i];
            }
        }
    });
    return a + static_cast<Frames>(*std::max_element(changedEnd.begin(), changedEnd.end()));
}

Frames LimiterStage::Chunker::verify(Frames a, Frames from, Frames to) {
    const Frames count = to - from;
    if (count <= 0) {
        return to;
    }
    // The estimates go straight into m_verified (per interval of the chunk), which the emission's
    // true-peak tally reads; intervals outside [from, to) keep what the last pass found.
    float* const verified = m_verified.data() + (from - a);
    const auto& S = *s.m_search;
    const int reach = S.taps / 2 - 1; // the ×4 window of interval n is frames [n − reach, n + reach + 1]
    // The ×4 search under-reads content above 0.8·Nyquist (its kernel rolls off there), so every
    // interval within 3 dB of the ceiling by the search is measured with the ×16 kernel, and
    // with the meter's where that comes within kMeterWithinDb.
    const auto nearLinear = static_cast<float>(s.m_ceilingLinear * math::dbToLinear(-kRefineWithinDb));
    const auto meterNear = static_cast<float>(s.m_ceilingLinear * math::dbToLinear(-kMeterWithinDb));
    m_pool->parallelFor(tilesOf(count), [&](std::size_t t, unsigned) {
        const Frames t0 = static_cast<Frames>(t) * kTile;
        const Frames t1 = std::min(count, t0 + kTile);
        const Frames tn = t1 - t0;
        float* est = verified + t0;
        auto yAt = [&](int c, Frames n) {
            return m_yw[static_cast<std::size_t>(c)].data() + kVerify + (n - a);
        };
        // 1. A bound on the ×4 search of y = x·gain from the search of x (m_p), without
        //    interpolating y: with gmax, gmin the extremes of the gain over the window and C1 the
        //    kernel's largest Σ|c|, |Σ c·x·g| ≤ gmax·|Σ c·x| + (gmax − gmin)·C1·max|x|. The gain
        //    is smooth, so the bound is tight; only intervals it cannot clear are interpolated.
        //    Intervals whose window reaches before this chunk's gain are always interpolated.
        //    First per block of kScreenBlock intervals, from the block's extremes (most blocks of
        //    a master lie well below the ceiling and clear at once), then per interval.
        const Frames b0 = std::max(t0, a + reach - from); // first interval index with the bound
        const double spread = s.m_searchAbsSum * (1.0 + kBoundRounding);
        const double scale = 1.0 + kBoundRounding;
        std::vector<Frames> interpolate;
        std::vector<float> gMax;
        std::vector<float> gMin;
        std::vector<double> bound;
        for (Frames j = 0; j < b0 - t0; ++j) {
            interpolate.push_back(j);
        }
        for (Frames j0 = std::max<Frames>(0, b0 - t0); j0 < tn; j0 += kScreenBlock) {
            const Frames j1 = std::min(tn, j0 + kScreenBlock);
            const Frames n0 = from + t0 + j0; // its first interval
            const float* g = m_gain.data() + (n0 - reach - a);
            const auto [gLow, gHigh] = std::minmax_element(g, g + (j1 - j0) + S.taps - 1);
            const double* p = m_p.data() + (n0 - (a - 1));
            const float* xw = m_xWindowMax.data() + (n0 - (a - 1));
            const double blockBound =
                static_cast<double>(*gHigh) * *std::max_element(p, p + (j1 - j0)) * scale +
                static_cast<double>(*gHigh - *gLow) * spread *
                    static_cast<double>(*std::max_element(xw, xw + (j1 - j0)));
            std::uint8_t* measured = m_measured.data() + (n0 - a);
            if (blockBound <= nearLinear) { // ≥ 3 dB below the ceiling: holds
                std::fill(est + j0, est + j1, static_cast<float>(blockBound));
                std::fill(measured, measured + (j1 - j0), std::uint8_t{0});
                continue;
            }
            gMax.resize(static_cast<std::size_t>(j1 - j0));
            gMin.resize(static_cast<std::size_t>(j1 - j0));
            bound.resize(static_cast<std::size_t>(j1 - j0));
            windowExtremes(g, j1 - j0, S.taps, gMax.data(), gMin.data());
            searchBounds(gMax.data(), gMin.data(), p, xw, j1 - j0, spread, scale, bound.data());
            for (Frames j = j0; j < j1; ++j) {
                const double v = bound[static_cast<std::size_t>(j - j0)];
                const bool cleared = v <= nearLinear;
                if (cleared) {
                    est[j] = static_cast<float>(v);
                } else {
                    interpolate.push_back(j);
                }
                measured[j - j0] = cleared ? 0 : 1;
            }
        }
        for (Frames j = 0; j < b0 - t0; ++j) {
            m_measured[static_cast<std::size_t>(from + t0 + j - a)] = 1;
        }
        // 2. The ×4 search of y itself where the bound did not clear, run by run.
        std::vector<float> other;
        for (std::size_t k = 0; k < interpolate.size();) {
            std::size_t end = k + 1;
            while (end < interpolate.size() && interpolate[end] == interpolate[end - 1] + 1) {
                ++end;
            }
            const Frames j0 = interpolate[k];
            const auto run = static_cast<Frames>(end - k);
            other.resize(static_cast<std::size_t>(run));
            for (int c = 0; c < s.m_channels; ++c) {
                float* dst = c == 0 ? est + j0 : other.data();
                intervalPeaks(yAt(c, from + t0 + j0) - reach, S, dst, run);
                for (Frames j = 0; c > 0 && j < run; ++j) {
                    est[j0 + j] = std::max(est[j0 + j], other[static_cast<std::size_t>(j)]);
                }
            }
            k = end;
        }
        // 3. ×16 where the search comes within 3 dB (kRefineGroup windows at a time, every
        //    channel); the meter's kernel where that comes within kMeterWithinDb.
        for (const auto* kernel : {s.m_refine, s.m_meterRefine}) {
            const float threshold = kernel == s.m_refine ? nearLinear : meterNear;
            const float* byTapKernel = (kernel == s.m_refine ? s.m_refineByTap : s.m_meterRefineByTap).data();
            std::vector<Frames> near;
            for (const Frames j : interpolate) {
                if (est[j] > threshold) {
                    near.push_back(j);
                }
            }
            for (std::size_t k = 0; k < near.size(); k += kRefineGroup) {
                const int group = static_cast<int>(std::min<std::size_t>(kRefineGroup, near.size() - k));
                float peaks[kRefineGroup];
                for (int c = 0; c < s.m_channels; ++c) {
                    const float* windows[kRefineGroup];
                    for (int g = 0; g < group; ++g) {
                        windows[g] = yAt(c, from + t0 + near[k + static_cast<std::size_t>(g)]) -
                                     (kernel->taps / 2 - 1);
                    }
                    refinedPeaks(windows, group, byTapKernel, kernel->taps, peaks);
                    for (int g = 0; g < group; ++g) {
                        float& v = est[near[k + static_cast<std::size_t>(g)]];
                        v = std::max(v, peaks[g]);
                    }
                }
            }
        }
    });
    Frames first = to;
    for (Frames j = 0; j < count; ++j) {
        const double tp = verified[j];
        if (tp <= s.m_ceilingLinear) {
            continue;
        }
        // Ask for the attenuation the gain already had at both samples of the interval plus the
        // excess: H over the L frames before each is then at least that, so is R, so is their
        // mean G — the interval comes down by the excess in one pass (up to the change in the
        // neighbouring samples' gains, which the next pass measures).
        const Frames n = from + j;
        const double excess = math::linearToDb(tp / s.m_ceilingLinear) + kExcessMarginDb;
        for (const Frames m : {n, n + 1}) {
            const auto i = static_cast<std::size_t>(m - a);
            const double need = m_g[i] + excess;
            if (need > m_d[i]) {
                carry.boost[m] += need - m_d[i];
                m_d[i] = need;
            }
        }
        first = std::min(first, n);
        m_boostedEnd = std::max(m_boostedEnd, n + 2);
        ++tally.regionsRerun;
    }
    return first;
}

bool LimiterStage::Chunker::emitChunk(const Held& in, AudioBuffer& out, bool final,
                                      detail::ThreadPool& pool) {
    const Frames L = s.m_lookahead;
    const Frames a = carry.next;
    // Every chunk but the last ones is kChunk long and starts where the last emitted up to, and
    // waits until all the input it reads (after()) has arrived: where chunks start, and what they
    // read, does not depend on how the input arrived — the schedule the segments run ahead on.
    const Frames chunk = final ? std::min(in.end - a, kChunk) : kChunk;
    if (!final && in.end - a < kChunk + s.after()) {
        return false;
    }
    const Frames overlap = s.overlap();
    if (chunk <= 0 || (!final && chunk <= overlap)) {
        return false;
    }
    m_pool = &pool;
    const Frames emit = final ? chunk : chunk - overlap;
    const Frames e = chunk + kVerify;              // frames of y computed (the tail is provisional)
    m_origin = a - kHistory;                       // absolute frame of working index 0
    const Frames span = kHistory + e + L + 12 + 1; // working length: after() past the chunk
    // Working copies of the input (zeros outside what exists) and of y (the last emitted frames first).
    for (int c = 0; c < s.m_channels; ++c) {
        auto& xw = m_xw[static_cast<std::size_t>(c)];
        xw.resize(static_cast<std::size_t>(span));
        in.copy(c, m_origin, span, xw.data());
        auto& yw = m_yw[static_cast<std::size_t>(c)];
        yw.resize(static_cast<std::size_t>(kVerify + e));
        std::copy(carry.yHistory[static_cast<std::size_t>(c)].begin(),
                  carry.yHistory[static_cast<std::size_t>(c)].end(), yw.begin());
    }
    // p[n] for n in [a−1, a+e+L): the peak of the interval [n, n+1] (×4), the largest channel's.
    const auto& S = *s.m_search;
    const Frames pCount = e + L + 1;
    for (auto& pk : m_peaks) {
        pk.resize(static_cast<std::size_t>(pCount));
    }
    m_p.resize(static_cast<std::size_t>(pCount));
    m_xWindowMax.resize(static_cast<std::size_t>(pCount));
    const int reach = S.taps / 2 - 1;
    // Where C1·max|x| over an interval's window is 3 dB or more below the ceiling (verify's
    // "near"), no ×4 value there can reach it (C1 = the kernel's largest Σ|c|): p takes that bound
    // instead of the interpolation (D is 0 either way, verify's bound only needs p ≥ the ×4 peak,
    // and where the gain is steady it still clears). Decided per kLanes block. Alternating runs:
    // 0.549 s against 0.559 with the threshold at −6 dB.
    const double exactAbove = s.m_ceilingLinear * math::dbToLinear(-kRefineWithinDb) / s.m_searchAbsSum;
    m_pool->parallelFor(tilesOf(pCount), [&](std::size_t t, unsigned) {
        const Frames t0 = static_cast<Frames>(t) * kTile;
        const Frames t1 = std::min(pCount, t0 + kTile);
        // max|x| over the ×4 window of each interval, all channels.
        thread_local std::vector<float> absMax;
        absMax.assign(static_cast<std::size_t>(t1 - t0 + S.taps - 1), 0.0f);
        for (const auto& x : m_xw) {
            accumulateAbsMax(x.data() + (a - 1 + t0 - reach - m_origin), static_cast<Frames>(absMax.size()),
                             absMax.data());
        }
        float* wmax = m_xWindowMax.data() + t0;
        windowExtremes(absMax.data(), t1 - t0, S.taps, wmax, nullptr);
        for (Frames j0 = t0; j0 < t1; j0 += kLanes) {
            const Frames j1 = std::min(t1, j0 + kLanes);
            const float blockMax = *std::max_element(wmax + (j0 - t0), wmax + (j1 - t0));
            if (static_cast<double>(blockMax) <= exactAbove) {
                for (Frames j = j0; j < j1; ++j) {
                    m_p[static_cast<std::size_t>(j)] = s.m_searchAbsSum * static_cast<double>(wmax[j - t0]);
                }
                continue;
            }
            for (std::size_t c = 0; c < m_peaks.size(); ++c) {
                const float* window = m_xw[c].data() + (a - 1 - m_origin) - reach + j0;
                intervalPeaks(window, S, m_peaks[c].data() + j0, j1 - j0);
            }
            for (Frames j = j0; j < j1; ++j) {
                double v = 0.0;
                for (const auto& pk : m_peaks) {
                    v = std::max(v, static_cast<double>(pk[static_cast<std::size_t>(j)]));
                }
                m_p[static_cast<std::size_t>(j)] = v;
            }
        }
    });
    // Per tile: D[n] for n in [a, a+e+L−1), the attenuation the ×4 peaks on either side of sample
    // n ask for (verification's boosts are added in computeGain).
    const auto dCount = static_cast<std::size_t>(e + L - 1);
    m_d.resize(dCount);
    m_pool->parallelFor(tilesOf(static_cast<Frames>(dCount)), [&](std::size_t t, unsigned) {
        const auto t0 = static_cast<std::size_t>(t) * static_cast<std::size_t>(kTile);
        const std::size_t t1 = std::min(dCount, t0 + static_cast<std::size_t>(kTile));
        for (std::size_t i = t0; i < t1; ++i) {
            const double q = std::max(m_p[i], m_p[i + 1]);
            m_d[i] = math::limiterAttenuationDb(q, s.m_ceilingLinear);
        }
    });
    m_h.resize(dCount);
    m_g.resize(dCount);
    m_r.resize(static_cast<std::size_t>(L + e));
    m_verified.resize(static_cast<std::size_t>(chunk)); // the first pass verifies every interval
    m_measured.resize(static_cast<std::size_t>(chunk));
    std::copy(carry.rHistory.begin(), carry.rHistory.end(), m_r.begin());
    m_gain.resize(static_cast<std::size_t>(e));
    // Compute, verify, raise the attenuation where an interval exceeds the ceiling, and compute
    // again from where that can change G (L−1 frames before the boost), until every interval holds.
    int passes = 0;
    Frames from = a;
    for (;;) {
        ++passes;
        // Intervals whose ×16 window (kVerify each side) holds a frame whose gain changed.
        const Frames changedEnd = computeGain(a, e, from, passes == 1, m_boostedEnd);
        m_boostedEnd = a;
        if (!s.m_spec.verify) {
            break;
        }
        const Frames first = changedEnd > from ? verify(a, std::max(a, from - kVerify),
                                                        std::min(a + chunk, changedEnd + kVerify))
                                               : a + chunk;
        if (first >= std::min(a + chunk, changedEnd + kVerify)) {
            break;
        }
        if (passes >= kMaxPasses) {
            ++tally.unconverged; // reported as a warning: never a silent miss
            break;
        }
        from = std::max(a, first - L + 1);
    }
    tally.maxPasses = std::max(tally.maxPasses, passes);
    // Emit [a, a+emit) (without the lead-in before frame 0) and carry the state.
    const Frames skip = std::clamp<Frames>(-a, 0, emit);
    const Frames start = out.frames();
    out.setFrames(start + emit - skip);
    for (int c = 0; c < s.m_channels; ++c) {
        const auto& y = m_yw[static_cast<std::size_t>(c)];
        std::copy(y.begin() + kVerify + skip, y.begin() + kVerify + emit, out.channel(c) + start);
        auto& h = carry.yHistory[static_cast<std::size_t>(c)];
        std::copy(y.begin() + emit, y.begin() + emit + kVerify, h.begin());
    }
    // The output's true peak as verification measured it (×16, both kernels, where the ×4 search
    // came within 3 dB of the ceiling; elsewhere a bound below that).
    if (a + emit > 0) {
        const Frames n0 = std::max<Frames>(a, 0);
        largestMeasured(m_verified.data() + (n0 - a), m_measured.data() + (n0 - a), a + emit - n0,
                        &tally.truePeak, &tally.truePeakBound);
    }
    s.tallyInto(tally, m_g.data(), a, emit);
    // R of the last L frames emitted (some from the previous chunk when this one is shorter).
    std::copy(m_r.begin() + emit, m_r.begin() + emit + L, carry.rHistory.begin());
    carry.boost.erase(carry.boost.begin(), carry.boost.lower_bound(a + emit));
    carry.next = a + emit;
    return true;
}

LimiterPassCall LimiterStage::statsPieces(Frames a, Frames count) const {
    // From the output's frame 0 (and past the stages before, whose delay the history leaves out),
    // cut where the 100 ms steps of the output's time axis begin.
    const Frames step = std::max<Frames>(1, m_rate / 10);
    const Frames n0 = std::max({a, m_upstream, Frames{0}});
    LimiterPassCall call;
    call.frames = count;
    call.statsFrom = std::min(n0 - a, count);
    call.firstPiece = ((n0 - m_upstream) / step + 1) * step + m_upstream - n0;
    call.pieceFrames = step;
    return call;
}

void LimiterStage::tallyInto(Tally& t, const double* g, Frames a, Frames emit) const {
    const LimiterPassCall pieces = statsPieces(a, emit);
    for (Frames k = 0; k < pieces.pieces(); ++k) {
        const Frames begin = pieces.pieceBegin(k);
        t.pieces.emplace_back(a + begin, reductionStats(g + begin, pieces.pieceEnd(k) - begin));
    }
}

void LimiterStage::commit(Tally& t) {
    for (const auto& [n, st] : t.pieces) {
        tallyPiece(n, st);
    }
    m_truePeak = std::max(m_truePeak, t.truePeak);
    m_truePeakBound = std::max(m_truePeakBound, t.truePeakBound);
    m_regionsRerun += t.regionsRerun;
    m_unconvergedChunks += t.unconverged;
    m_maxPasses = std::max(m_maxPasses, t.maxPasses);
    t = {};
}

void LimiterStage::tallyPiece(Frames n, const ReductionStats& st) {
    m_maxReductionDb = std::max(m_maxReductionDb, st.max);
    m_sumReductionDb += st.sum;
    m_limitedFrames += st.count;
    detail::recordReduction(m_history, n - m_upstream, m_rate, st.max);
}

nlohmann::json LimiterStage::report() const {
    nlohmann::json j;
    j["ceiling_dbtp"] = m_spec.ceilingDbtp;
    j["lookahead_frames"] = m_lookahead;
    j["max_gain_reduction_db"] = m_maxReductionDb;
    j["mean_gain_reduction_db"] =
        m_limitedFrames > 0 ? m_sumReductionDb / static_cast<double>(m_limitedFrames) : 0.0;
    j["limited_s"] = m_rate > 0 ? static_cast<double>(m_limitedFrames) / m_rate : 0.0;
    // The output's true peak by the verification's ×16 measurement, when that is what decides
    // (otherwise everything lies 3 dB or more below the ceiling: the meter reads it).
    if (m_truePeak > 0.0f && m_truePeak >= m_truePeakBound) {
        j["true_peak_dbtp"] = math::linearToDb(m_truePeak);
    } else {
        j["true_peak_dbtp"] = nullptr;
    }
    j["verification_reruns"] = m_regionsRerun;
    j["max_passes"] = m_maxPasses;
    j["gain_reduction_history"] = {{"step_s", detail::kGainHistoryStepSeconds}, {"db", m_history}};
    j["warnings"] = nlohmann::json::array();
    if (m_unconvergedChunks > 0) {
        j["warnings"].push_back("the true-peak ceiling could not be verified in " +
                                std::to_string(m_unconvergedChunks) + " region(s) after " +
                                std::to_string(kMaxPasses) + " passes; the output may exceed it there");
    }
    return j;
}

} // namespace lathe
