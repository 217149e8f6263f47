// Lathe: the true-peak limiter's per-sample formulas (shared CPU/GPU math; LimiterStage.h has the
// whole algorithm, the CUDA backend's limiter pass the same first pass as kernels).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/math/Dynamics.h>
#include <lathe/math/Hd.h>

namespace lathe::math {

/// Gain reduction (dB) below this has returned to 0: an exponential release never does by itself,
/// and a signal the limiter no longer touches must pass bit-exactly.
inline constexpr double kLimiterReleasedDb = 1e-6;

/// D: the attenuation (dB, ≥ 0) that a peak `q` (linear, the larger ×4 interval peak on either side
/// of a sample) asks for under the linear ceiling.
LATHE_HD inline double limiterAttenuationDb(double q, double ceilingLinear) {
    return q > ceilingLinear ? linearToDb(q / ceilingLinear) : 0.0;
}

/// R: one step of the release from the previous reduction, with the look-ahead maximum `h` as the
/// floor: max(h, aR·previous), snapped to 0 once below kLimiterReleasedDb. The snap commutes with
/// the recursion — R equals the snapped value of the unsnapped max-affine recursion U (if U is
/// below the threshold, so is aR·U, and the next value is h either way or snaps to 0 either way) —
/// so a scan of the unsnapped maps gives every segment's true start.
/// It is apply(MaxAffine{h, aR, 0}, previous) without the "+ 0": R is never negative, and x + 0 is
/// x for x ≥ +0, so the value is the same to the bit; the add only lengthened the sequential
/// chain by its latency.
LATHE_HD inline double limiterReleaseStep(double h, double previous, double aR) {
    const double r = maxOf(h, aR * previous);
    return r < kLimiterReleasedDb ? 0.0 : r;
}

/// The linear gain of a reduction g (dB): 10^(−g/20), and 1 exactly where g is 0.
LATHE_HD inline float limiterGain(double g) {
    const auto linear = static_cast<float>(dbToLinear(-g));
    return g > 0.0 ? linear : 1.0f;
}

} // namespace lathe::math
