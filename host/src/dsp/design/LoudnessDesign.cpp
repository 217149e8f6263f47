// SPDX-License-Identifier: GPL-3.0-or-later
#include "Bessel.h"

#include <lathe/Error.h>
#include <lathe/design/LoudnessDesign.h>

#include <cmath>
#include <numbers>

namespace lathe::design {
namespace {

constexpr double kPi = std::numbers::pi;

// BS.1770 / libebur128 analog prototype parameters.
constexpr double kShelfF0 = 1681.974450955533;
constexpr double kShelfGainDb = 3.999843853973347;
constexpr double kShelfQ = 0.7071752369554196;
constexpr double kShelfVbExponent = 0.4996667741545416;
constexpr double kHighpassF0 = 38.13547087602444;
constexpr double kHighpassQ = 0.5003270373238773;

double highpassA0(double fs) {
    const double k = std::tan(kPi * kHighpassF0 / fs);
    return 1.0 + k / kHighpassQ + k * k;
}

} // namespace

math::KWeighting designKWeighting(SampleRate fsRate) {
    const double fs = static_cast<double>(fsRate);
    math::KWeighting k{};
    {
        const double K = std::tan(kPi * kShelfF0 / fs);
        const double Vh = std::pow(10.0, kShelfGainDb / 20.0);
        const double Vb = std::pow(Vh, kShelfVbExponent);
        const double a0 = 1.0 + K / kShelfQ + K * K;
        k.shelf.b0 = (Vh + Vb * K / kShelfQ + K * K) / a0;
        k.shelf.b1 = 2.0 * (K * K - Vh) / a0;
        k.shelf.b2 = (Vh - Vb * K / kShelfQ + K * K) / a0;
        k.shelf.a1 = 2.0 * (K * K - 1.0) / a0;
        k.shelf.a2 = (1.0 - K / kShelfQ + K * K) / a0;
    }
    {
        const double K = std::tan(kPi * kHighpassF0 / fs);
        const double a0 = 1.0 + K / kHighpassQ + K * K;
        const double g = highpassA0(48000.0) / a0; // 1 at 48 kHz: the normative coefficients
        k.highpass.b0 = g;
        k.highpass.b1 = -2.0 * g;
        k.highpass.b2 = g;
        k.highpass.a1 = 2.0 * (K * K - 1.0) / a0;
        k.highpass.a2 = (1.0 - K / kHighpassQ + K * K) / a0;
    }
    return k;
}

Interpolator designInterpolator(int factor, int taps, double kaiserBeta) {
    LATHE_EXPECTS(factor >= 1 && taps >= 2 && taps % 2 == 0, "interpolator needs factor >= 1 and even taps");
    Interpolator it;
    it.factor = factor;
    it.taps = taps;
    it.coeffs.resize(static_cast<std::size_t>(factor * taps));
    const double half = taps / 2.0;
    const double norm = besselI0(kaiserBeta);
    for (int p = 0; p < factor; ++p) {
        std::vector<double> c(static_cast<std::size_t>(taps));
        double sum = 0.0;
        for (int i = 0; i < taps; ++i) {
            const double tau = static_cast<double>(p) / factor - (i - taps / 2 + 1);
            const double sinc = tau == 0.0 ? 1.0 : std::sin(kPi * tau) / (kPi * tau);
            const double r = tau / half;
            const double w = std::fabs(r) >= 1.0 ? 0.0 : besselI0(kaiserBeta * std::sqrt(1.0 - r * r)) / norm;
            c[static_cast<std::size_t>(i)] = sinc * w;
            sum += sinc * w;
        }
        for (int i = 0; i < taps; ++i) {
            it.coeffs[static_cast<std::size_t>(p * taps + i)] =
                static_cast<float>(c[static_cast<std::size_t>(i)] / sum);
        }
    }
    return it;
}

const Interpolator& truePeakSearchInterpolator() {
    static const Interpolator i = designInterpolator(4, 24, 7.0);
    return i;
}

const Interpolator& truePeakRefineInterpolator() {
    static const Interpolator i = designInterpolator(16, 48, 8.0);
    return i;
}

} // namespace lathe::design
