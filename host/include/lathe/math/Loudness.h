// Lathe: per-sample loudness and true-peak math (ITU-R BS.1770-5), shared by CPU and GPU.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// The per-sample work of a loudness measurement is: K-weight every channel (two biquads, double
// state), square and sum into short sub-blocks, and find sample and true peaks. Everything after
// that (window sums, gating, LRA, maxima) works on those records on the host (analysis/Loudness*).
#pragma once

#include <lathe/math/Biquad.h>
#include <lathe/math/Hd.h>

#include <cmath>

namespace lathe::math {

/// The two K-weighting stages for one sample rate (designed in dsp/design/KWeighting.cpp).
struct KWeighting {
    BiquadD shelf;    ///< stage 1: high-shelf (head effects), +4 dB above ~1.7 kHz
    BiquadD highpass; ///< stage 2: RLB high-pass at ~38 Hz
};

template <class T> struct KWeightingStateOf {
    BiquadStateOf<T> shelf;
    BiquadStateOf<T> highpass;
};
using KWeightingState = KWeightingStateOf<double>;

/// K-weights one sample (of one channel, or of one channel per lane: see biquadTdf2).
template <class T>
LATHE_HD_INLINE T kWeightSample(const KWeighting& k, KWeightingStateOf<T>& s,
                                typename NotDeduced<T>::type x) {
    return biquadTdf2<T>(k.highpass, s.highpass, biquadTdf2<T>(k.shelf, s.shelf, x));
}

/// K-weighting in segments, in parallel (the CUDA backend's scan). The two sections are linear:
/// through `length` samples of silence the four state values (s1, s2 of each section) are mapped
/// by a 4×4 matrix, and through a segment of audio the state becomes that matrix times the state
/// before it plus the state the segment reaches from rest. So every segment is filtered from rest,
/// a short sequential pass carries the state from segment to segment, and every segment is filtered
/// again from its true start: one pass from the start, up to rounding (about 1e-15 relative per
/// segment).
struct KWeightingTransition {
    double m[4][4]; ///< state after = m · state before (no input)
};

LATHE_HD inline void kWeightingStateToVector(const KWeightingState& s, double v[4]) {
    v[0] = s.shelf.s1;
    v[1] = s.shelf.s2;
    v[2] = s.highpass.s1;
    v[3] = s.highpass.s2;
}

LATHE_HD inline KWeightingState kWeightingStateFromVector(const double v[4]) {
    KWeightingState s{};
    s.shelf.s1 = v[0];
    s.shelf.s2 = v[1];
    s.highpass.s1 = v[2];
    s.highpass.s2 = v[3];
    return s;
}

/// The matrix of `length` samples of silence: column j is where the unit state j goes.
LATHE_HD inline KWeightingTransition kWeightingTransition(const KWeighting& k, long long length) {
    KWeightingTransition t{};
    for (int j = 0; j < 4; ++j) {
        double unit[4] = {0.0, 0.0, 0.0, 0.0};
        unit[j] = 1.0;
        KWeightingState s = kWeightingStateFromVector(unit);
        for (long long i = 0; i < length; ++i) {
            kWeightSample(k, s, 0.0);
        }
        double column[4];
        kWeightingStateToVector(s, column);
        for (int r = 0; r < 4; ++r) {
            t.m[r][j] = column[r];
        }
    }
    return t;
}

/// The state after a segment of the transition's length that began in `start`, given the state
/// `fromRest` that the same segment reaches from rest.
LATHE_HD inline KWeightingState carryKWeighting(const KWeightingTransition& t, const KWeightingState& start,
                                                const KWeightingState& fromRest) {
    double a[4];
    double b[4];
    double out[4];
    kWeightingStateToVector(start, a);
    kWeightingStateToVector(fromRest, b);
    for (int r = 0; r < 4; ++r) {
        double v = b[r];
        for (int j = 0; j < 4; ++j) {
            v += t.m[r][j] * a[j];
        }
        out[r] = v;
    }
    return kWeightingStateFromVector(out);
}

/// Loudness (LUFS/LKFS) of a channel-weighted mean square: −0.691 + 10·log10(z). −∞ for z = 0.
LATHE_HD inline double lufsFromMeanSquare(double z) {
    return -0.691 + 10.0 * log10(z);
}

/// Mean square for a loudness (inverse of lufsFromMeanSquare).
LATHE_HD inline double meanSquareFromLufs(double lufs) {
    return pow(10.0, (lufs + 0.691) / 10.0);
}

/// Band-limited interpolation of x at time n + phase/factor from `taps` samples around n:
/// value = Σ_i coeff[phase·taps + i] · x[n − taps/2 + 1 + i]. `window` points at x[n − taps/2 + 1].
/// Phase 0 reproduces x[n] exactly (the kernel is a windowed sinc: zero at the other integers).
LATHE_HD inline float interpolateAt(const float* window, const float* coeffs, int taps, int phase) {
    const float* c = coeffs + phase * taps;
    float y = 0.0f;
    for (int i = 0; i < taps; ++i) {
        y += c[i] * window[i];
    }
    return y;
}

/// Whether the ×4 search value `v` at sample n, phase p (0..3) is a local maximum of the sequence
/// … (n, 3), (n+1, 0) … within the step [begin, end), values outside the step counting as zero.
/// `at(n, p)` returns |value| at a grid point. Both backends' true-peak searches call this.
template <typename At>
LATHE_HD inline bool isSearchLocalMax(const At& at, long long n, int p, long long begin, long long end,
                                      float v) {
    const long long pn = p == 0 ? n - 1 : n;
    const int pp = p == 0 ? 3 : p - 1;
    const long long nn = p == 3 ? n + 1 : n;
    const int np = p == 3 ? 0 : p + 1;
    const float prev = pn >= begin ? at(pn, pp) : 0.0f;
    const float next = nn < end ? at(nn, np) : 0.0f;
    return v >= prev && v >= next;
}

/// The ×16 point `d` (−3..3) places from the ×4 point (n, p): its sample in *m, its phase (0..15)
/// as the return value.
LATHE_HD inline int refinePoint(long long n, int p, int d, long long* m) {
    int ph = p * 4 + d;
    *m = n;
    if (ph < 0) {
        ph += 16;
        *m = n - 1;
    } else if (ph >= 16) {
        ph -= 16;
        *m = n + 1;
    }
    return ph;
}

} // namespace lathe::math
