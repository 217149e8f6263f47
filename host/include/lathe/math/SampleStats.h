// Lathe: per-channel sample statistics (peak, DC, energy, non-finite samples); shared CPU/GPU math.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/math/Hd.h>

#include <cstdint>

namespace lathe::math {

/// Running statistics of one channel. A monoid: `combineStats` is associative and `emptyStats()`
/// is its identity, so a GPU tree reduction and a CPU loop compute the same peak, counts and
/// positions exactly (sums differ only by the order of double additions).
struct SampleStats {
    float peakAbs;               ///< largest |x| over finite samples (linear, 1.0 = 0 dBFS)
    std::int64_t peakFrame;      ///< frame of the first sample reaching peakAbs; −1 if none
    double sum;                  ///< Σx over finite samples (DC offset = sum / finiteCount)
    double sumSquares;           ///< Σx² over finite samples
    std::int64_t finiteCount;    ///< number of finite samples
    std::int64_t nonFiniteCount; ///< number of NaN or ±Inf samples
    std::int64_t firstNonFinite; ///< frame of the first NaN/Inf; −1 if none
};

LATHE_HD inline SampleStats emptyStats() {
    return SampleStats{0.0f, -1, 0.0, 0.0, 0, 0, -1};
}

/// Adds one sample at absolute frame `frame`.
LATHE_HD inline void accumulateSample(SampleStats& s, float x, std::int64_t frame) {
    if (!isFiniteSample(x)) {
        if (s.nonFiniteCount == 0 || frame < s.firstNonFinite) {
            s.firstNonFinite = frame;
        }
        ++s.nonFiniteCount;
        return;
    }
    const float a = fabsf(x);
    if (a > s.peakAbs || (a == s.peakAbs && a > 0.0f && (s.peakFrame < 0 || frame < s.peakFrame))) {
        s.peakAbs = a;
        s.peakFrame = frame;
    }
    const double d = static_cast<double>(x);
    s.sum += d;
    s.sumSquares += d * d;
    ++s.finiteCount;
}

/// Combines two partial results; ties in peak and first-non-finite resolve to the earlier frame.
LATHE_HD inline SampleStats combineStats(const SampleStats& a, const SampleStats& b) {
    SampleStats r;
    if (b.peakAbs > a.peakAbs ||
        (b.peakAbs == a.peakAbs && b.peakFrame >= 0 && (a.peakFrame < 0 || b.peakFrame < a.peakFrame))) {
        r.peakAbs = b.peakAbs;
        r.peakFrame = b.peakFrame;
    } else {
        r.peakAbs = a.peakAbs;
        r.peakFrame = a.peakFrame;
    }
    r.sum = a.sum + b.sum;
    r.sumSquares = a.sumSquares + b.sumSquares;
    r.finiteCount = a.finiteCount + b.finiteCount;
    r.nonFiniteCount = a.nonFiniteCount + b.nonFiniteCount;
    if (a.firstNonFinite < 0) {
        r.firstNonFinite = b.firstNonFinite;
    } else if (b.firstNonFinite < 0) {
        r.firstNonFinite = a.firstNonFinite;
    } else {
        r.firstNonFinite = a.firstNonFinite < b.firstNonFinite ? a.firstNonFinite : b.firstNonFinite;
    }
    return r;
}

} // namespace lathe::math
