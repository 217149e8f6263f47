// Lathe: float → integer PCM quantisation with TPDF dither (shared CPU/GPU math).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/math/Hd.h>
#include <lathe/math/Random.h>

#include <cstdint>

namespace lathe::math {

/// Design output of the quantiser: everything a kernel or CPU loop needs, as a POD.
///
/// Convention (matches libsndfile's integer read scaling, so that integer round trips are exact):
/// full scale is 2^(bits-1); an integer code q represents the float value q / 2^(bits-1).
/// Reading a 16-bit file gives q/32768 exactly, and quantising that float gives q back.
struct QuantizeParams {
    double scale;         ///< 2^(bits-1): float → LSB units
    std::int32_t minCode; ///< −2^(bits-1)
    std::int32_t maxCode; ///< 2^(bits-1) − 1
    int shiftLeft;        ///< 32 − bits: libsndfile's int API takes left-justified 32-bit codes
    bool dither;          ///< add TPDF dither of ±1 LSB (triangular, zero mean, variance 1/6 LSB²)
    std::uint64_t seed;   ///< dither stream seed; the noise depends only on (seed, channel, frame)
};

/// Result of quantising one sample.
struct QuantizedSample {
    std::int32_t leftJustified; ///< code << shiftLeft, ready for sf_writef_int
    bool clipped;               ///< the value (after dither) lay outside [minCode, maxCode]
};

/// TPDF dither value in LSB for one sample: the difference of two independent uniform variables,
/// so it lies in (−1, +1) with a triangular density. Counter-based: no state, any chunking, any
/// thread order gives the same noise (which is what makes GPU output equal CPU output).
LATHE_HD inline double tpdfDitherLsb(std::uint64_t seed, std::uint32_t channel, std::uint64_t frame) {
    const std::uint64_t bits = hashCounter(seed, channel, frame);
    const double u1 = uniformFromBits(static_cast<std::uint32_t>(bits >> 32));
    const double u2 = uniformFromBits(static_cast<std::uint32_t>(bits & 0xffffffffu));
    return u1 - u2;
}

/// Quantises one float sample to a left-justified integer code. `x` must be finite (callers scan
/// for NaN/Inf first; the result for non-finite input is the clamped minimum code).
/// Rounding is round-half-up (floor(v + 0.5)) with explicitly rounded arithmetic, so CPU and GPU
/// give identical codes. `Dither` must equal p.dither; it is a template parameter so that loops can
/// be specialised (quantizeSample() below picks it at run time).
/// The left-justified code for t = (value in LSB) + 0.5: floor(t), clamped to the code range.
LATHE_HD inline QuantizedSample codeOf(double t, const QuantizeParams& p, std::int64_t* codeOut = nullptr) {
    QuantizedSample out{0, false};
    std::int64_t code;
    if (!(t >= static_cast<double>(p.minCode))) { // also catches NaN
        code = p.minCode;
        out.clipped = true;
    } else if (t >= static_cast<double>(p.maxCode) + 1.0) {
        code = p.maxCode;
        out.clipped = true;
    } else {
        // floor(t) for t in [minCode, maxCode + 1): truncate, then step down where truncation went
        // up (negative non-integers). Same result as floor(), without a libm call on baseline x86-64.
        code = static_cast<std::int64_t>(t);
        code -= static_cast<double>(code) > t ? 1 : 0;
    }
    if (codeOut != nullptr) {
        *codeOut = code;
    }
    // Shift as unsigned: left-shifting a negative signed value is undefined before C++20.
    out.leftJustified = static_cast<std::int32_t>(static_cast<std::uint32_t>(code) << p.shiftLeft);
    return out;
}

template <bool Dither>
LATHE_HD inline QuantizedSample quantizeSampleT(float x, const QuantizeParams& p, std::uint32_t channel,
                                                std::uint64_t frame) {
    double v = mulRn(static_cast<double>(x), p.scale); // exact: scale is a power of two
    if (Dither) {
        v = addRn(v, tpdfDitherLsb(p.seed, channel, frame));
    }
    return codeOf(addRn(v, 0.5), p);
}

/// Noise shaping by error feedback (Wannamaker, "Psychoacoustically optimal noise shaping", JAES
/// 40(7/8), 1992: the 3-tap F-weighted filter). The quantiser's input is the sample minus the
/// filtered past errors, u = v − Σ h_k·e[n−1−k], and e[n] = code − u (the dither included), so the
/// output is v + (1 − H(z))·e: the total noise (TPDF + rounding, 1/4 LSB² white) leaves the
/// 1–5 kHz region where hearing is most sensitive (−12 dB at DC: |1 − H(1)|² = 0.25²) for the
/// top octave. Coefficients designed at 44.1 kHz; at other rates the shape scales with fs.
inline constexpr int kShapeTaps = 3;
inline constexpr double kShapeCoeffs[kShapeTaps] = {1.623, -0.982, 0.109};
/// An error beyond this (LSB) means the code clipped: it is not fed back (the loop would ring).
inline constexpr double kShapeMaxErrorLsb = 4.0;

/// One channel's feedback state: the last kShapeTaps errors, newest first.
struct ShapeState {
    double e[kShapeTaps] = {0.0, 0.0, 0.0};
};

/// quantizeSampleT<true> with error-feedback noise shaping. Sequential in `frame` per channel.
LATHE_HD inline QuantizedSample quantizeShaped(float x, const QuantizeParams& p, std::uint32_t channel,
                                               std::uint64_t frame, ShapeState& s) {
    const double v = mulRn(static_cast<double>(x), p.scale);
    double feedback = mulRn(kShapeCoeffs[0], s.e[0]);
    feedback = addRn(feedback, mulRn(kShapeCoeffs[1], s.e[1]));
    feedback = addRn(feedback, mulRn(kShapeCoeffs[2], s.e[2]));
    const double u = addRn(v, -feedback);
    std::int64_t code = 0;
    const QuantizedSample out = codeOf(addRn(addRn(u, tpdfDitherLsb(p.seed, channel, frame)), 0.5), p, &code);
    double e = addRn(static_cast<double>(code), -u);
    e = e > kShapeMaxErrorLsb ? 0.0 : (e < -kShapeMaxErrorLsb ? 0.0 : e);
    s.e[2] = s.e[1];
    s.e[1] = s.e[0];
    s.e[0] = e;
    return out;
}

/// quantizeSampleT with the dither switch taken from `p`.
LATHE_HD inline QuantizedSample quantizeSample(float x, const QuantizeParams& p, std::uint32_t channel,
                                               std::uint64_t frame) {
    return p.dither ? quantizeSampleT<true>(x, p, channel, frame)
                    : quantizeSampleT<false>(x, p, channel, frame);
}

/// Builds the parameters for an integer depth of 8..32 bits.
LATHE_HD inline QuantizeParams makeQuantizeParams(int bits, bool dither, std::uint64_t seed) {
    QuantizeParams p{};
    p.scale = ldexp(1.0, bits - 1);
    p.minCode = static_cast<std::int32_t>(-(std::int64_t{1} << (bits - 1)));
    p.maxCode = static_cast<std::int32_t>((std::int64_t{1} << (bits - 1)) - 1);
    p.shiftLeft = 32 - bits;
    p.dither = dither;
    p.seed = seed;
    return p;
}

} // namespace lathe::math
