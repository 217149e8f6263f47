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

struct KWeightingState {
    BiquadStateD shelf;
    BiquadStateD highpass;
};

/// K-weights one sample.
LATHE_HD inline double kWeightSample(const KWeighting& k, KWeightingState& s, double x) {
    return biquadTdf2(k.highpass, s.highpass, biquadTdf2(k.shelf, s.shelf, x));
}

/// Loudness (LUFS/LKFS) of a channel-weighted mean square: −0.691 + 10·log10(z). −∞ for z = 0.
LATHE_HD inline double lufsFromMeanSquare(double z) { return -0.691 + 10.0 * log10(z); }

/// Mean square for a loudness (inverse of lufsFromMeanSquare).
LATHE_HD inline double meanSquareFromLufs(double lufs) { return pow(10.0, (lufs + 0.691) / 10.0); }

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

} // namespace lathe::math
