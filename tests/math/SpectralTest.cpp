// SPDX-License-Identifier: GPL-3.0-or-later
// lathe/math/Spectral.h against std::complex<double>.
#include "TestSignals.h"

#include <lathe/math/Spectral.h>

#include <gtest/gtest.h>

#include <complex>

namespace lathe::math {
namespace {

TEST(SpectralMath, ComplexMacIsTheComplexProductSum) {
    const auto v = test::noise(4 * 1000, 2.0, 3);
    std::vector<float> accRe(1000, 0.25f);
    std::vector<float> accIm(1000, -0.5f);
    const float* xr = v.data();
    const float* xi = v.data() + 1000;
    const float* hr = v.data() + 2000;
    const float* hi = v.data() + 3000;
    for (int k = 0; k < 1000; ++k) {
        complexMac(xr[k], xi[k], hr[k], hi[k], accRe[static_cast<std::size_t>(k)],
                   accIm[static_cast<std::size_t>(k)]);
    }
    for (int k = 0; k < 1000; ++k) {
        const std::complex<double> want =
            std::complex<double>(0.25, -0.5) +
            std::complex<double>(xr[k], xi[k]) * std::complex<double>(hr[k], hi[k]);
        // Float: two products and two sums, each rounded once (≤ 4 ulps of the largest term, ~16).
        EXPECT_NEAR(accRe[static_cast<std::size_t>(k)], want.real(), 4e-6) << k;
        EXPECT_NEAR(accIm[static_cast<std::size_t>(k)], want.imag(), 4e-6) << k;
    }
}

TEST(SpectralMath, MixDryAddsTheScaledDrySignal) {
    EXPECT_EQ(mixDry(0.5f, 0.25f, 2.0f), 1.0f);
    EXPECT_EQ(mixDry(-0.5f, 1.0f, 0.0f), -0.5f);
    EXPECT_EQ(mixDry(0.0f, 0.3f, 1.0f), 0.3f); // dry at 0 dB is the input exactly
}

} // namespace
} // namespace lathe::math
