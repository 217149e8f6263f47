// Lathe: envelope detectors and gain computers of the dynamics stages (shared CPU/GPU math).
// SPDX-License-Identifier: GPL-3.0-or-later
//
// The detectors are chosen so that a whole signal can be evaluated in parallel *exactly*
// (../shared/reference/gpu-and-speed.md §2.2): each sample's update is a map of the state, and
// these maps compose into maps of the same form, so an associative scan over chunks gives the
// sequential result (up to double rounding), on the CPU by chunks and on the GPU by blocks.
//
// Decoupled smooth peak detector (Giannoulis, Massberg & Reiss, JAES 2012, eq. 17):
//   release stage  y1[n] = max(x[n], aR·y1[n−1] + (1 − aR)·x[n])      — a max-affine map of y1
//   attack stage   yL[n] = aA·yL[n−1] + (1 − aA)·y1[n]                  — an affine map of yL
// RMS detector: a linear one-pole on x² (affine).
// Coefficients: a = exp(−1 / (τ·fs)), so a step reaches 1 − 1/e (63.2 %) of its height after τ.
#pragma once

#include <lathe/math/Hd.h>

namespace lathe::math {

/// y ↦ max(a, b·y + c) with b ≥ 0 (b ≥ 0 keeps the family closed under composition).
struct MaxAffine {
    double a, b, c;
};

/// y ↦ b·y + c.
struct Affine {
    double b, c;
};

LATHE_HD inline double apply(const MaxAffine& f, double y) {
    return fmax(f.a, f.b * y + f.c);
}

LATHE_HD inline double apply(const Affine& f, double y) {
    return f.b * y + f.c;
}

/// g ∘ f (f first): max(g.a, g.b·max(f.a, f.b·y + f.c) + g.c)
///                = max(max(g.a, g.b·f.a + g.c), g.b·f.b·y + g.b·f.c + g.c)   (g.b ≥ 0).
LATHE_HD inline MaxAffine compose(const MaxAffine& g, const MaxAffine& f) {
    return {fmax(g.a, g.b * f.a + g.c), g.b * f.b, g.b * f.c + g.c};
}

/// g ∘ f (f first).
LATHE_HD inline Affine compose(const Affine& g, const Affine& f) {
    return {g.b * f.b, g.b * f.c + g.c};
}

/// The identity of each family (the empty chunk).
LATHE_HD inline MaxAffine identityMaxAffine() {
    return {-1e300, 1.0, 0.0};
}

LATHE_HD inline Affine identityAffine() {
    return {1.0, 0.0};
}

/// One sample of the release stage as a map: y ↦ max(x, aR·y + (1 − aR)·x).
LATHE_HD inline MaxAffine releaseStep(double x, double aR) {
    return {x, aR, (1.0 - aR) * x};
}

/// One sample of a one-pole smoother as a map: y ↦ a·y + (1 − a)·x.
LATHE_HD inline Affine onePoleStep(double x, double a) {
    return {a, (1.0 - a) * x};
}

/// Pole of a one-pole smoother with time constant `seconds` at `fs` (0 s: no smoothing).
LATHE_HD inline double onePoleCoefficient(double seconds, double fs) {
    return seconds > 0.0 ? exp(-1.0 / (seconds * fs)) : 0.0;
}

/// 20·log10(x) through log2 (cheaper than log10 in libm and on the GPU; the same to ~1 ulp).
LATHE_HD inline double linearToDb(double x) {
    return 6.020599913279624 * log2(x); // 20·log10(2)
}

/// 10^(dB/20) through exp2.
LATHE_HD inline double dbToLinear(double db) {
    return exp2(0.16609640474436813 * db); // log2(10)/20
}

/// Static curves in dB with a soft knee of width kneeDb centred on the threshold (quadratic inside
/// the knee; Giannoulis et al. eq. 4). Each returns the output level for input level xDb; the
/// gain is the difference.
///
/// Compressor (downward, ratio ≥ 1): above the threshold the level rises 1/ratio dB per dB.
LATHE_HD inline double compressorCurveDb(double xDb, double thresholdDb, double ratio, double kneeDb) {
    const double over = xDb - thresholdDb;
    if (2.0 * over < -kneeDb) {
        return xDb;
    }
    if (2.0 * fabs(over) <= kneeDb && kneeDb > 0.0) {
        const double t = over + 0.5 * kneeDb;
        return xDb + (1.0 / ratio - 1.0) * t * t / (2.0 * kneeDb);
    }
    return thresholdDb + over / ratio;
}

/// Expander (downward, ratio ≥ 1): below the threshold the level falls `ratio` dB per dB.
LATHE_HD inline double expanderCurveDb(double xDb, double thresholdDb, double ratio, double kneeDb) {
    const double under = xDb - thresholdDb;
    if (2.0 * under > kneeDb) {
        return xDb;
    }
    if (2.0 * fabs(under) <= kneeDb && kneeDb > 0.0) {
        const double t = under - 0.5 * kneeDb;
        return xDb + (1.0 - ratio) * t * t / (2.0 * kneeDb);
    }
    return thresholdDb + under * ratio;
}

/// Upward compressor (ratio ≥ 1): below the threshold quiet material is raised, the level rising
/// only 1/ratio dB per dB, i.e. the mirror image of the compressor about the threshold.
LATHE_HD inline double upwardCompressorCurveDb(double xDb, double thresholdDb, double ratio, double kneeDb) {
    const double under = xDb - thresholdDb;
    if (2.0 * under > kneeDb) {
        return xDb;
    }
    if (2.0 * fabs(under) <= kneeDb && kneeDb > 0.0) {
        const double t = under - 0.5 * kneeDb;
        return xDb + (1.0 - 1.0 / ratio) * t * t / (2.0 * kneeDb);
    }
    return thresholdDb + under / ratio;
}

} // namespace lathe::math
