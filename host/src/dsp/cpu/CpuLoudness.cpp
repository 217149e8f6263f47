// SPDX-License-Identifier: GPL-3.0-or-later
// Per-sample loudness work on the CPU: K-weighting into sub-block energies, sample peaks, and a
// two-stage true-peak search (×4 everywhere, ×16 around the candidates).
#include "../../core/Simd.h"
#include "HostLoops.h"

#include <lathe/Error.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/math/Loudness.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lathe {
namespace {

/// The search FIR's outputs in flight at once (firPhase): four independent sums of eight floats
/// (an AVX register each), so that the additions of one tap do not wait on each other. A GNU
/// vector type, so that the compiler keeps the sums in registers across the taps (left to itself,
/// GCC vectorised a plain loop over a block of outputs across the taps instead, shuffling every
/// product into place; a single 16-float type was lowered to AVX2 through the stack).
using FirLanes = float __attribute__((vector_size(8 * sizeof(float))));
constexpr int kFirSums = 4;
constexpr Frames kFirBlock = kFirSums * 8;

/// Two channels' K-weighting side by side, one a lane (SSE2's vector of two doubles, in every
/// target; a GNU vector type, whose operators act lane by lane).
using DoublePair = double __attribute__((vector_size(2 * sizeof(double))));

} // namespace

/// out[n] = Σ_i c[i]·base[n + i] for n in [0, count), each output's taps added in order from the
/// first product, as math::interpolateAt adds them (0 + v is v), so the values equal it (vector
/// operations are the scalar ones lane by lane; -ffp-contract=off keeps them apart).
/// kFirBlock outputs at a time stay in registers across all the taps: one pass over the taps per
/// block of outputs, where a pass over the outputs per tap stored and reloaded every output once
/// a tap (that loop was 70 % of `lathe analyze`'s time on the CPU).
LATHE_TARGET_CLONES void detail::firPhase(const float* base, const float* c, int taps, Frames count,
                                          float* out) {
    Frames n = 0;
    for (; n + kFirBlock <= count; n += kFirBlock) {
        FirLanes acc[kFirSums];
        for (int k = 0; k < kFirSums; ++k) {
            FirLanes x;
            std::memcpy(&x, base + n + 8 * k, sizeof x);
            acc[k] = c[0] * x;
        }
        for (int i = 1; i < taps; ++i) {
            const float ci = c[i];
            for (int k = 0; k < kFirSums; ++k) {
                FirLanes x;
                std::memcpy(&x, base + n + i + 8 * k, sizeof x);
                acc[k] += ci * x;
            }
        }
        for (int k = 0; k < kFirSums; ++k) {
            std::memcpy(out + n + 8 * k, &acc[k], sizeof acc[k]);
        }
    }
    for (; n < count; ++n) {
        float acc = c[0] * base[n];
        for (int i = 1; i < taps; ++i) {
            acc += c[i] * base[n + i];
        }
        out[n] = acc;
    }
}

namespace {

const float kCandidateRatio = truePeakCandidateRatio();

/// The ×4 values of phases 1..3 for buffer samples [begin, end) into y[phase-1][n-begin], and
/// into `envelope` the largest |value| of the four phases at each sample (firPhase's values:
/// math::interpolateAt's exactly).
void searchPhases(const float* x, Frames begin, Frames end, const design::Interpolator& it,
                  std::vector<float> (&y)[3], std::vector<float>& envelope) {
    const Frames count = end - begin;
    const int taps = it.taps;
    for (int p = 1; p < 4; ++p) {
        std::vector<float>& out = y[p - 1];
        out.resize(static_cast<std::size_t>(count));
        detail::firPhase(x + begin - taps / 2 + 1, it.coeffs.data() + p * taps, taps, count, out.data());
    }
    envelope.resize(static_cast<std::size_t>(count));
    float* __restrict env = envelope.data();
    const float* __restrict x0 = x + begin;
    const float* __restrict y1 = y[0].data();
    const float* __restrict y2 = y[1].data();
    const float* __restrict y3 = y[2].data();
    for (Frames n = 0; n < count; ++n) {
        env[n] = std::max(std::max(std::fabs(x0[n]), std::fabs(y1[n])),
                          std::max(std::fabs(y2[n]), std::fabs(y3[n])));
    }
}

/// The largest envelope value: what `m = std::max(m, v)` from m = 0 gives (a NaN never enters
/// m), eight running maxima at once in two SSE vectors, each lane as that loop (the maximum of
/// numbers does not depend on how they are grouped). GCC did not vectorise the loop of scalars,
/// and lowered a vector of eight floats to scalars where AVX is not assumed.
float envelopeMax(const std::vector<float>& envelope) {
    using FloatQuad = float __attribute__((vector_size(4 * sizeof(float))));
    const std::size_t count = envelope.size();
    FloatQuad lanes[2] = {};
    std::size_t n = 0;
    for (; n + 8 <= count; n += 8) {
        for (int k = 0; k < 2; ++k) {
            FloatQuad v;
            std::memcpy(&v, envelope.data() + n + 4 * k, sizeof v);
            lanes[k] = lanes[k] < v ? v : lanes[k];
        }
    }
    float m = 0.0f;
    for (; n < count; ++n) {
        m = std::max(m, envelope[n]);
    }
    for (const FloatQuad& l : lanes) {
        for (int k = 0; k < 4; ++k) {
            m = std::max(m, l[k]);
        }
    }
    return m;
}

/// The candidate scan skips blocks of this many ×4 points in which no envelope value reaches the
/// threshold, found by a vectorised count (most of a step's points lie below it).
constexpr Frames kSkipBlock = 32;

/// Whether any of kSkipBlock envelope values is not below `threshold` (a NaN counts, as it does
/// in the per-point test `envelope < threshold`).
bool anyAtLeast(const float* envelope, float threshold) {
    int hits = 0;
    for (Frames k = 0; k < kSkipBlock; ++k) {
        hits += envelope[k] < threshold ? 0 : 1;
    }
    return hits != 0;
}

/// The ×16 refinement's points around a candidate: d = −3..3 (math::refinePoint).
constexpr int kRefinePoints = 7;

/// The ×16 values at the refinement's seven points around the ×4 point (n, p): their samples in
/// `m`, their phases in `phases`, their values (signed) in `values`. Each value is
/// math::interpolateAt's (its taps added in order from 0), the seven sums interleaved so that
/// they do not wait on each other's additions (one sum alone is a chain of 48 dependent adds).
void refineAround(const float* x, Frames n, int p, const design::Interpolator& refine, long long* m,
                  int* phases, float* values) {
    const int taps = refine.taps;
    const float* window[kRefinePoints];
    const float* coeffs[kRefinePoints];
    for (int d = 0; d < kRefinePoints; ++d) {
        phases[d] = math::refinePoint(n, p, d - 3, &m[d]);
        window[d] = x + m[d] - taps / 2 + 1;
        coeffs[d] = refine.coeffs.data() + phases[d] * taps;
    }
    float acc[kRefinePoints] = {};
    for (int i = 0; i < taps; ++i) {
        for (int d = 0; d < kRefinePoints; ++d) {
            acc[d] += coeffs[d][i] * window[d][i];
        }
    }
    for (int d = 0; d < kRefinePoints; ++d) {
        values[d] = acc[d];
    }
}

} // namespace

float truePeakCandidateRatio() {
    static const float ratio = std::pow(10.0f, -kTruePeakCandidateMarginDb / 20.0f);
    return ratio;
}

LoudnessParams LoudnessParams::forRate(SampleRate fs) {
    if (fs < kMinSampleRate || fs > kMaxSampleRate) {
        throw UsageError("loudness: sample rate " + std::to_string(fs) +
                         " Hz is outside the supported range");
    }
    LoudnessParams p;
    p.sampleRate = fs;
    p.stepFrames = (fs + 5) / 10;
    const Frames maxSub = std::max<Frames>(1, static_cast<Frames>(std::llround(0.0025 * fs)));
    p.subBlockFrames = 1;
    for (Frames d = maxSub; d >= 1; --d) {
        if (p.stepFrames % d == 0) {
            p.subBlockFrames = d;
            break;
        }
    }
    p.kWeighting = design::designKWeighting(fs);
    p.search = &design::truePeakSearchInterpolator();
    p.refine = &design::truePeakRefineInterpolator();
    p.lookaheadFrames = std::max(p.search->taps, p.refine->taps) / 2 + 1;
    p.warmupFrames = std::max<Frames>(static_cast<Frames>(std::llround(0.25 * fs)), p.lookaheadFrames);
    return p;
}

void measureLoudnessChunkCpu(const LoudnessParams& params, const LoudnessChunk& chunk, LoudnessRecords& out) {
    const AudioBuffer& audio = *chunk.audio;
    const int channels = audio.channels();
    const Frames warm = params.warmupFrames;
    const Frames frames = chunk.frames;
    LATHE_EXPECTS(audio.frames() >= warm + frames + params.lookaheadFrames, "loudness chunk without margins");
    const Frames step = params.stepFrames;
    const Frames sub = params.subBlockFrames;
    const Frames steps = (frames + step - 1) / step;
    const Frames subs = (frames + sub - 1) / sub;
    const design::Interpolator& search = *params.search;
    const design::Interpolator& refine = *params.refine;

    out.subBlockEnergy.assign(static_cast<std::size_t>(channels), {});
    out.stepSamplePeak.assign(static_cast<std::size_t>(channels), {});
    out.stepTruePeak.assign(static_cast<std::size_t>(channels), {});
    out.stepTruePeakFrame.assign(static_cast<std::size_t>(channels), {});
    std::vector<float> y[3];
    std::vector<float> envelope;

    // 1. K-weighting: settle over the warm-up, then sum y² per sub-block (double throughout). Two
    //    channels at once, one in each lane of a vector of two doubles: the same operations on
    //    each channel as math::kWeightSample on a double (lane by lane), in half the instructions
    //    (the loop of one channel pair at a time, in scalars, was bound by their issue, not by
    //    the recursion's latency). An odd last channel fills both lanes.
    for (int c0 = 0; c0 < channels; c0 += 2) {
        const int pair = std::min(2, channels - c0);
        const float* x0 = audio.channel(c0);
        const float* x1 = audio.channel(c0 + pair - 1);
        math::KWeightingStateOf<DoublePair> state{};
        for (Frames i = 0; i < warm; ++i) {
            math::kWeightSample<DoublePair>(params.kWeighting, state, DoublePair{x0[i], x1[i]});
        }
        double* energy[2];
        for (int c = 0; c < pair; ++c) {
            auto& e = out.subBlockEnergy[static_cast<std::size_t>(c0 + c)];
            e.assign(static_cast<std::size_t>(subs), 0.0);
            energy[c] = e.data();
        }
        for (Frames k = 0; k < subs; ++k) {
            const Frames begin = warm + k * sub;
            const Frames end = warm + std::min(frames, (k + 1) * sub);
            DoublePair e{0.0, 0.0};
            for (Frames i = begin; i < end; ++i) {
                const DoublePair v =
                    math::kWeightSample<DoublePair>(params.kWeighting, state, DoublePair{x0[i], x1[i]});
                e += v * v;
            }
            for (int c = 0; c < pair; ++c) {
                energy[c][k] = e[c];
            }
        }
    }

    for (int c = 0; c < channels; ++c) {
        const float* x = audio.channel(c);

        // 2. Peaks per 100 ms step.
        auto& samplePeak = out.stepSamplePeak[static_cast<std::size_t>(c)];
        auto& truePeak = out.stepTruePeak[static_cast<std::size_t>(c)];
        auto& truePeakFrame = out.stepTruePeakFrame[static_cast<std::size_t>(c)];
        samplePeak.assign(static_cast<std::size_t>(steps), 0.0f);
        truePeak.assign(static_cast<std::size_t>(steps), 0.0f);
        truePeakFrame.assign(static_cast<std::size_t>(steps), -1.0);
        for (Frames s = 0; s < steps; ++s) {
            const Frames begin = warm + s * step;
            const Frames end = warm + std::min(frames, (s + 1) * step);
            // Sample peak (and its position, the fallback true-peak position).
            const detail::PeakBits peak = detail::peakBits(x + begin, end - begin);
            const Frames peakAt = peak.first >= 0 ? begin + peak.first : -1;
            const float sp = std::bit_cast<float>(peak.bits);
            samplePeak[static_cast<std::size_t>(s)] = sp;
            float best = sp;
            double bestAt = peakAt >= 0 ? static_cast<double>(chunk.firstFrame + (peakAt - warm)) : -1.0;
            if (sp > 0.0f && params.truePeak) {
                // ×4 search: phase 0 is x itself.
                searchPhases(x, begin, end, search, y, envelope);
                const float max4 = envelopeMax(envelope);
                auto at = [&](Frames n, int phase) {
                    return phase == 0 ? std::fabs(x[n])
                                      : std::fabs(y[phase - 1][static_cast<std::size_t>(n - begin)]);
                };
                // Candidates: local maxima of the ×4 sequence within the margin of the step's
                // maximum, each refined at ×16 over ±3 points. Every candidate is refined, in no
                // particular order (the largest value wins, the earliest position among equals),
                // so that a device reducing the step in parallel computes the same records: an
                // earlier "largest first, stop when none can win" order skipped candidates whose
                // ±3 points reach past the step's edge, where the margin argument does not hold.
                const float threshold = max4 * kCandidateRatio;
                for (Frames b = begin; b < end; b += kSkipBlock) {
                    const Frames blockEnd = std::min(end, b + kSkipBlock);
                    if (blockEnd - b == kSkipBlock && !anyAtLeast(envelope.data() + (b - begin), threshold)) {
                        continue; // no candidate in this block
                    }
                    for (Frames n = b; n < blockEnd; ++n) {
                        if (envelope[static_cast<std::size_t>(n - begin)] < threshold) {
                            continue;
                        }
                        for (int p = 0; p < 4; ++p) {
                            const float v = at(n, p);
                            if (v < threshold || !math::isSearchLocalMax(at, n, p, begin, end, v)) {
                                continue;
                            }
                            long long ms[kRefinePoints];
                            int phases[kRefinePoints];
                            float values[kRefinePoints];
                            refineAround(x, n, p, refine, ms, phases, values);
                            for (int d = 0; d < kRefinePoints; ++d) {
                                const float r = std::fabs(values[d]);
                                const double rAt =
                                    static_cast<double>(chunk.firstFrame + (ms[d] - warm)) + phases[d] / 16.0;
                                if (r > best || (r == best && rAt < bestAt)) {
                                    best = r;
                                    bestAt = rAt;
                                }
                            }
                        }
                    }
                }
            }
            truePeak[static_cast<std::size_t>(s)] = best;
            truePeakFrame[static_cast<std::size_t>(s)] = bestAt;
        }
    }
}

} // namespace lathe
