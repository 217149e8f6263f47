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

/// The larger of two values (a comparison, not fmax: libm's fmax is a call on x86-64, and the
/// detectors never see NaN — the reader rejects or sanitises it).
LATHE_HD inline double maxOf(double a, double b) {
    return a > b ? a : b;
}

LATHE_HD inline double apply(const MaxAffine& f, double y) {
    return maxOf(f.a, f.b * y + f.c);
}

LATHE_HD inline double apply(const Affine& f, double y) {
    return f.b * y + f.c;
}

/// g ∘ f (f first): max(g.a, g.b·max(f.a, f.b·y + f.c) + g.c)
///                = max(max(g.a, g.b·f.a + g.c), g.b·f.b·y + g.b·f.c + g.c)   (g.b ≥ 0).
LATHE_HD inline MaxAffine compose(const MaxAffine& g, const MaxAffine& f) {
    return {maxOf(g.a, g.b * f.a + g.c), g.b * f.b, g.b * f.c + g.c};
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

/// The bits of a double (and back): the exponent field is how log2/exp2 split off powers of 2.
LATHE_HD_INLINE std::uint64_t bitsOf(double x) {
#if defined(__CUDA_ARCH__)
    return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
    std::uint64_t u;
    __builtin_memcpy(&u, &x, sizeof u);
    return u;
#endif
}

LATHE_HD_INLINE double doubleOf(std::uint64_t u) {
#if defined(__CUDA_ARCH__)
    return __longlong_as_double(static_cast<long long>(u));
#else
    double x;
    __builtin_memcpy(&x, &u, sizeof x);
    return x;
#endif
}

/// log2(x) for positive normal x, to a few ulp, in plain IEEE operations (no libm call, no branch,
/// no int↔double conversion instruction), so a loop of them vectorises and the GPU computes the
/// same expression: x = 2^e·m with m in [√½, √2), log(m) = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.1716,
/// by its series to s²¹ (the next term is < 1e-16 of the sum).
LATHE_HD_INLINE double log2Poly(double x) {
    const std::uint64_t bits = bitsOf(x);
    // m in [1, 2); above √2 (positive doubles order as their bits) halve it and count one more
    // power of 2 — in integer operations, as a select of arithmetic is not vectorised.
    const std::uint64_t mBits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
    const std::uint64_t high = mBits > 0x3FF6A09E667F3BCDull ? 1u : 0u; // bits of √2
    const double m = doubleOf(mBits - (high << 52));
    // The exponent as a double, exactly: 2^52 + biased exponent in the mantissa, minus 2^52.
    const double e = doubleOf(((bits >> 52) + high) | 0x4330000000000000ull) - 4503599627370496.0 - 1023.0;
    const double s = (m - 1.0) / (m + 1.0);
    const double z = s * s;
    // Σ z^k/(2k+1), k = 0 … 10, by Estrin's scheme (pairs, then pairs of pairs): a chain of 4
    // multiply-adds instead of Horner's 10, so consecutive elements overlap in the pipeline.
    const double z2 = z * z;
    const double z4 = z2 * z2;
    const double z8 = z4 * z4;
    const double p01 = 1.0 + z * (1.0 / 3.0);
    const double p23 = 1.0 / 5.0 + z * (1.0 / 7.0);
    const double p45 = 1.0 / 9.0 + z * (1.0 / 11.0);
    const double p67 = 1.0 / 13.0 + z * (1.0 / 15.0);
    const double p89 = 1.0 / 17.0 + z * (1.0 / 19.0);
    const double series = (p01 + z2 * p23) + z4 * (p45 + z2 * p67) + z8 * (p89 + z2 * (1.0 / 21.0));
    return e + 2.0 * s * series * 1.4426950408889634; // 1/ln 2
}

/// 2^x to a few ulp, in plain IEEE operations like log2Poly: x = k + f with k an integer and
/// |f| ≤ ½, 2^f by its Taylor series to f¹³ (the next term is < 1e-16), 2^k built in the exponent
/// field. Below −1022 it returns 0, from 1024 on +∞ (selected at the end, not clamped first: a
/// clamp followed by arithmetic is not vectorised).
LATHE_HD_INLINE double exp2Poly(double x) {
    constexpr double kShifter = 6755399441055744.0; // 1.5·2^52: adding it rounds to an integer
    const double t = x + kShifter;
    const double k = t - kShifter;
    const double f = x - k;
    // Σ (ln 2)^n/n!·f^n, n = 0 … 13, by Estrin's scheme (see log2Poly).
    const double f2 = f * f;
    const double f4 = f2 * f2;
    const double f8 = f4 * f4;
    const double e01 = 1.0 + f * 0.6931471805599453;
    const double e23 = 0.2402265069591007 + f * 0.055504108664821576;
    const double e45 = 0.009618129107628477 + f * 0.0013333558146428441;
    const double e67 = 0.00015403530393381606 + f * 1.5252733804059838e-05;
    const double e89 = 1.3215486790144305e-06 + f * 1.0178086009239696e-07;
    const double e1011 = 7.054911620801121e-09 + f * 4.44553827187081e-10;
    const double e1213 = 2.5678435993488196e-11 + f * 1.3691488853904124e-12;
    const double p = ((e01 + f2 * e23) + f4 * (e45 + f2 * e67)) + f8 * ((e89 + f2 * e1011) + f4 * e1213);
    // k sits in the low bits of t's mantissa (t = 1.5·2^52 + k): k + 1023 in the exponent field.
    const std::uint64_t kBits = bitsOf(t) - bitsOf(kShifter);
    const double r = p * doubleOf((kBits + 1023u) << 52);
    return x < -1022.0 ? 0.0 : (x < 1024.0 ? r : HUGE_VAL);
}

/// 20·log10(x) through log2Poly (x > 0, normal).
LATHE_HD_INLINE double linearToDb(double x) {
    return 6.020599913279624 * log2Poly(x); // 20·log10(2)
}

/// 10^(dB/20) through exp2Poly.
LATHE_HD_INLINE double dbToLinear(double db) {
    return exp2Poly(0.16609640474436813 * db); // log2(10)/20
}

/// Static curves in dB with a soft knee of width kneeDb centred on the threshold (quadratic inside
/// the knee; Giannoulis et al. eq. 4). Each returns the output level for input level xDb; the
/// gain is the difference. Written branch-free — every piece computed, one selected — so a loop of
/// them vectorises (a branch around a division may not be if-converted under IEEE trapping rules).
/// A zero-width knee divides by 0 in the unselected quadratic, harmlessly.
///
/// Compressor (downward, ratio ≥ 1): above the threshold the level rises 1/ratio dB per dB.
LATHE_HD_INLINE double compressorCurveDb(double xDb, double thresholdDb, double ratio, double kneeDb) {
    const double over = xDb - thresholdDb;
    const double t = over + 0.5 * kneeDb;
    const double knee = xDb + (1.0 / ratio - 1.0) * t * t / (2.0 * kneeDb);
    const double above = thresholdDb + over / ratio;
    const bool inKnee = (2.0 * fabs(over) <= kneeDb) & (kneeDb > 0.0);
    return 2.0 * over < -kneeDb ? xDb : (inKnee ? knee : above);
}

/// Expander (downward, ratio ≥ 1): below the threshold the level falls `ratio` dB per dB.
LATHE_HD_INLINE double expanderCurveDb(double xDb, double thresholdDb, double ratio, double kneeDb) {
    const double under = xDb - thresholdDb;
    const double t = under - 0.5 * kneeDb;
    const double knee = xDb + (1.0 - ratio) * t * t / (2.0 * kneeDb);
    const double below = thresholdDb + under * ratio;
    const bool inKnee = (2.0 * fabs(under) <= kneeDb) & (kneeDb > 0.0);
    return 2.0 * under > kneeDb ? xDb : (inKnee ? knee : below);
}

/// Upward compressor (ratio ≥ 1): below the threshold quiet material is raised, the level rising
/// only 1/ratio dB per dB, i.e. the mirror image of the compressor about the threshold.
LATHE_HD_INLINE double upwardCompressorCurveDb(double xDb, double thresholdDb, double ratio, double kneeDb) {
    const double under = xDb - thresholdDb;
    const double t = under - 0.5 * kneeDb;
    const double knee = xDb + (1.0 - 1.0 / ratio) * t * t / (2.0 * kneeDb);
    const double below = thresholdDb + under / ratio;
    const bool inKnee = (2.0 * fabs(under) <= kneeDb) & (kneeDb > 0.0);
    return 2.0 * under > kneeDb ? xDb : (inKnee ? knee : below);
}

/// One band's static curve with its limits, for bandGainDb.
struct BandCurve {
    double thresholdDb, ratio, kneeDb;
    double rangeDb;  ///< the largest gain change either way
    double makeupDb; ///< added after the clamp
    double kneeEdge; ///< the knee's edge on the identity side as a linear level (bandCurveOf)
};

/// Curves by the side on which they are the identity: a compressor below its knee, an expander
/// and an upward compressor above it.
enum class CurveKind { Compressor = 0, Expander = 1, Upward = 2 };

/// The curve's constants. The knee edge: compressor below T − W/2, expander and upward above T + W/2.
LATHE_HD inline BandCurve bandCurveOf(CurveKind kind, double thresholdDb, double ratio, double kneeDb,
                                      double rangeDb, double makeupDb) {
    const double edgeDb = thresholdDb + (kind == CurveKind::Compressor ? -0.5 : 0.5) * kneeDb;
    return {thresholdDb, ratio, kneeDb, rangeDb, makeupDb, dbToLinear(edgeDb)};
}

/// The gain (dB) of a band for its smoothed level: clamp(curve(L) − L, ±range) + makeup with
/// L = dB(level); on the identity side of the knee (most samples of a gentle setting) just the
/// makeup. Branch-free, so a loop of them vectorises. A level of 0 reads as −6159 dB
/// (log2Poly(0) = −1023): far below any threshold, and the clamp bounds the gain.
template <CurveKind Kind> LATHE_HD_INLINE double bandGainDb(const BandCurve& b, double level) {
    bool identity;
    double curveDb;
    const double levelDb = linearToDb(level);
    if constexpr (Kind == CurveKind::Compressor) {
        identity = !(level > b.kneeEdge);
        curveDb = compressorCurveDb(levelDb, b.thresholdDb, b.ratio, b.kneeDb);
    } else if constexpr (Kind == CurveKind::Expander) {
        identity = !(level < b.kneeEdge);
        curveDb = expanderCurveDb(levelDb, b.thresholdDb, b.ratio, b.kneeDb);
    } else {
        identity = !(level < b.kneeEdge);
        curveDb = upwardCompressorCurveDb(levelDb, b.thresholdDb, b.ratio, b.kneeDb);
    }
    const double change = curveDb - levelDb;
    const double clamped = change < -b.rangeDb ? -b.rangeDb : (change > b.rangeDb ? b.rangeDb : change);
    const double curved = clamped + b.makeupDb;
    return identity ? b.makeupDb : curved;
}

} // namespace lathe::math
