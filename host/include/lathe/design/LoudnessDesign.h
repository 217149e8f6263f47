// Lathe: double-precision design of the loudness filters (K-weighting, true-peak interpolators).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Types.h>
#include <lathe/math/Loudness.h>

#include <vector>

namespace lathe::design {

/// K-weighting for `fs` (ITU-R BS.1770-5 Annex 1), by the analog-prototype formulas libebur128 uses,
/// which reproduce the normative 48 kHz coefficients to 1e-15:
///   stage 1 (shelf): f0 = 1681.974450955533 Hz, G = 3.999843853973347 dB, Q = 0.7071752369554196
///   stage 2 (RLB high-pass): f0 = 38.13547087602444 Hz, Q = 0.5003270373238773
/// with K = tan(π·f0/fs) (bilinear transform with pre-warping).
///
/// Rate correction: the published stage-2 numerator [1, −2, 1] is not divided by a0, which gives the
/// high-pass a broadband gain of a0(fs) — +0.04 dB at 48 kHz but +0.26 dB at 8 kHz. We scale the
/// numerator by a0(48 kHz)/a0(fs), so every rate has the 48 kHz filter's passband gain (exactly
/// the normative coefficients at 48 kHz). BS.1770 only asks that other rates have "the same
/// frequency response" as the 48 kHz filter; tests/unit/LoudnessTest checks programme material at
/// 8–384 kHz against its 48 kHz reading.
math::KWeighting designKWeighting(SampleRate fs);

/// A polyphase band-limited interpolator: `factor` phases of `taps` coefficients each.
/// coeffs[phase·taps + i] weighs x[n − taps/2 + 1 + i] for the value at n + phase/factor
/// (math::interpolateAt). Kernel: sinc(τ) · Kaiser(β) over |τ| < taps/2, each phase normalised to a
/// DC gain of exactly 1; phase 0 is the identity.
struct Interpolator {
    int factor = 1;
    int taps = 0;
    std::vector<float> coeffs;
};

Interpolator designInterpolator(int factor, int taps, double kaiserBeta);

/// The two interpolators of Lathe's true-peak meter (documented in lathe/Loudness.h):
/// ×4, 24 taps, β = 7 — finds candidate peaks (flat to 0.005 dB up to 0.8·Nyquist);
/// ×16, 48 taps, β = 8 — measures around them (flat to 0.012 dB up to 0.9·Nyquist).
const Interpolator& truePeakSearchInterpolator();
const Interpolator& truePeakRefineInterpolator();

} // namespace lathe::design
