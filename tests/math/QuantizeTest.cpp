// SPDX-License-Identifier: GPL-3.0-or-later
// lathe/math/Quantize.h and Random.h against closed forms.
#include <lathe/math/Quantize.h>
#include <lathe/math/Random.h>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace lathe::math {
namespace {

std::int32_t code(const QuantizedSample& q, int bits) {
    return q.leftJustified >> (32 - bits);
}

TEST(Quantize, ParamsMatchBitDepth) {
    const QuantizeParams p16 = makeQuantizeParams(16, false, 0);
    EXPECT_EQ(p16.scale, 32768.0);
    EXPECT_EQ(p16.minCode, -32768);
    EXPECT_EQ(p16.maxCode, 32767);
    EXPECT_EQ(p16.shiftLeft, 16);
    const QuantizeParams p24 = makeQuantizeParams(24, false, 0);
    EXPECT_EQ(p24.scale, 8388608.0);
    EXPECT_EQ(p24.minCode, -8388608);
    EXPECT_EQ(p24.maxCode, 8388607);
    EXPECT_EQ(p24.shiftLeft, 8);
}

// Every 16-bit code read as libsndfile reads it (q / 32768) must quantise back to itself.
TEST(Quantize, EveryInteger16CodeRoundTripsWithoutDither) {
    const QuantizeParams p = makeQuantizeParams(16, false, 0);
    for (int q = -32768; q <= 32767; ++q) {
        const float x = static_cast<float>(q) / 32768.0f;
        const QuantizedSample s = quantizeSample(x, p, 0, 0);
        ASSERT_EQ(code(s, 16), q);
        ASSERT_FALSE(s.clipped);
        ASSERT_EQ(s.leftJustified, static_cast<std::int32_t>(static_cast<std::uint32_t>(q) << 16));
    }
}

TEST(Quantize, Integer24CodesRoundTripAcrossTheRange) {
    const QuantizeParams p = makeQuantizeParams(24, false, 0);
    for (std::int64_t q = -8388608; q <= 8388607; q += 997) { // a prime stride through the range
        const float x = static_cast<float>(q) / 8388608.0f;   // exact: 24 significant bits
        ASSERT_EQ(code(quantizeSample(x, p, 1, 5), 24), q);
    }
    EXPECT_EQ(code(quantizeSample(8388607.0f / 8388608.0f, p, 0, 0), 24), 8388607);
}

TEST(Quantize, RoundsHalfUpAndClips) {
    const QuantizeParams p = makeQuantizeParams(16, false, 0);
    EXPECT_EQ(code(quantizeSample(0.5f / 32768.0f, p, 0, 0), 16), 1);  // +0.5 LSB → up
    EXPECT_EQ(code(quantizeSample(-0.5f / 32768.0f, p, 0, 0), 16), 0); // −0.5 LSB → up (to 0)
    EXPECT_EQ(code(quantizeSample(0.49f / 32768.0f, p, 0, 0), 16), 0);
    EXPECT_EQ(code(quantizeSample(-1.51f / 32768.0f, p, 0, 0), 16), -2);
    const QuantizedSample hi = quantizeSample(1.0f, p, 0, 0); // +1.0 is one LSB above the largest code
    EXPECT_EQ(code(hi, 16), 32767);
    EXPECT_TRUE(hi.clipped);
    const QuantizedSample big = quantizeSample(1.5f, p, 0, 0); // libsndfile without clipping wraps to −16386
    EXPECT_EQ(code(big, 16), 32767);
    EXPECT_TRUE(big.clipped);
    const QuantizedSample lo = quantizeSample(-1.5f, p, 0, 0);
    EXPECT_EQ(code(lo, 16), -32768);
    EXPECT_TRUE(lo.clipped);
    EXPECT_FALSE(quantizeSample(-1.0f, p, 0, 0).clipped); // −1.0 is exactly the lowest code
}

TEST(Dither, TpdfValuesAreTriangularWithExactMoments) {
    // TPDF = U1 − U2 with U uniform on [0,1): mean 0, variance 1/6, range (−1, 1), and the density
    // is triangular: P(|d| < 0.5) = 3/4.
    const int n = 1 << 20;
    double sum = 0, sum2 = 0;
    int inner = 0;
    double lo = 0, hi = 0;
    for (int i = 0; i < n; ++i) {
        const double d = tpdfDitherLsb(1234, 0, static_cast<std::uint64_t>(i));
        sum += d;
        sum2 += d * d;
        inner += std::fabs(d) < 0.5 ? 1 : 0;
        lo = std::min(lo, d);
        hi = std::max(hi, d);
    }
    const double mean = sum / n;
    const double var = sum2 / n - mean * mean;
    // Standard errors at n = 2^20: mean ±0.0004, variance ±0.0002, proportion ±0.0004; bounds are ~5σ.
    EXPECT_NEAR(mean, 0.0, 0.002);
    EXPECT_NEAR(var, 1.0 / 6.0, 0.001);
    EXPECT_NEAR(static_cast<double>(inner) / n, 0.75, 0.002);
    EXPECT_GT(lo, -1.0);
    EXPECT_LT(hi, 1.0);
}

TEST(Dither, NoiseDependsOnlyOnSeedChannelAndFrame) {
    EXPECT_EQ(tpdfDitherLsb(7, 1, 99), tpdfDitherLsb(7, 1, 99));
    EXPECT_NE(tpdfDitherLsb(7, 1, 99), tpdfDitherLsb(7, 0, 99)); // channels decorrelated
    EXPECT_NE(tpdfDitherLsb(7, 1, 99), tpdfDitherLsb(8, 1, 99)); // seeds differ
    // Adjacent frames and channels are uncorrelated (|r| < 5/sqrt(n)).
    const int n = 1 << 18;
    double sxy = 0, sxz = 0, sxx = 0;
    for (int i = 0; i < n; ++i) {
        const double x = tpdfDitherLsb(3, 0, static_cast<std::uint64_t>(i));
        sxy += x * tpdfDitherLsb(3, 0, static_cast<std::uint64_t>(i) + 1);
        sxz += x * tpdfDitherLsb(3, 1, static_cast<std::uint64_t>(i));
        sxx += x * x;
    }
    EXPECT_LT(std::fabs(sxy / sxx), 5.0 / std::sqrt(n));
    EXPECT_LT(std::fabs(sxz / sxx), 5.0 / std::sqrt(n));
}

TEST(Dither, DitheredQuantisationIsUnbiasedForSubLsbLevels) {
    // With TPDF the mean of the output equals the input even below one LSB (no dead zone).
    const QuantizeParams p = makeQuantizeParams(16, true, 42);
    for (double lsb : {0.0, 0.1, 0.25, 0.5, 0.9, -0.3}) {
        const float x = static_cast<float>(lsb / 32768.0);
        double sum = 0;
        const int n = 1 << 18;
        for (int i = 0; i < n; ++i) {
            sum += code(quantizeSample(x, p, 0, static_cast<std::uint64_t>(i)), 16);
        }
        // Error variance is 1/4 LSB²: the mean's standard error is 0.5/sqrt(n) ≈ 0.001 LSB.
        EXPECT_NEAR(sum / n, lsb, 0.006) << "input " << lsb << " LSB";
    }
}

TEST(Random, UniformFromBitsSpansUnitInterval) {
    EXPECT_EQ(uniformFromBits(0), 0.0);
    EXPECT_LT(uniformFromBits(0xffffffffu), 1.0);
    EXPECT_EQ(uniformFromBits(0x80000000u), 0.5);
}

TEST(Hd, IsFiniteSample) {
    EXPECT_TRUE(isFiniteSample(0.0f));
    EXPECT_TRUE(isFiniteSample(-1e30f));
    EXPECT_TRUE(isFiniteSample(1e-45f)); // denormal
    EXPECT_FALSE(isFiniteSample(NAN));
    EXPECT_FALSE(isFiniteSample(INFINITY));
    EXPECT_FALSE(isFiniteSample(-INFINITY));
}

} // namespace
} // namespace lathe::math
