// SPDX-License-Identifier: GPL-3.0-or-later
// Partitioned FFT convolution against a direct double-precision convolution.
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Backend.h>
#include <lathe/Convolution.h>
#include <lathe/Error.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace lathe {
namespace {

constexpr Frames kBlock = 8192;

/// y = h ∗ x in double, full length (x.size() + h.size() − 1).
std::vector<double> directConvolution(const std::vector<float>& x, const std::vector<float>& h) {
    std::vector<double> y(x.size() + h.size() - 1, 0.0);
    for (std::size_t n = 0; n < x.size(); ++n) {
        if (x[n] == 0.0f) {
            continue;
        }
        const double xn = x[n];
        double* out = y.data() + n;
        for (std::size_t k = 0; k < h.size(); ++k) {
            out[k] += xn * static_cast<double>(h[k]);
        }
    }
    return y;
}

/// Runs `x` (padded with zeros to whole blocks covering the full response) through a convolver,
/// feeding it in pieces of `pieceBlocks` blocks.
std::vector<std::vector<float>> runConvolver(const FilterMatrix& m, const std::vector<std::vector<float>>& x,
                                             Frames pieceBlocks = 3) {
    auto conv = makeCpuConvolver(m, {kBlock, 2});
    const Frames total = static_cast<Frames>(x[0].size()) + m.length() - 1;
    const Frames blocks = (total + kBlock - 1) / kBlock;
    std::vector<std::vector<float>> y(static_cast<std::size_t>(m.outputs));
    AudioBuffer in;
    AudioBuffer out;
    for (Frames b = 0; b < blocks; b += pieceBlocks) {
        const Frames n = std::min(pieceBlocks, blocks - b) * kBlock;
        in.reset(m.inputs, n);
        in.setFrames(n);
        for (int c = 0; c < m.inputs; ++c) {
            for (Frames i = 0; i < n; ++i) {
                const std::size_t at = static_cast<std::size_t>(b * kBlock + i);
                in.channel(c)[i] =
                    at < x[static_cast<std::size_t>(c)].size() ? x[static_cast<std::size_t>(c)][at] : 0.0f;
            }
        }
        conv->process(in, out);
        for (int c = 0; c < m.outputs; ++c) {
            auto& yc = y[static_cast<std::size_t>(c)];
            yc.insert(yc.end(), out.channel(c), out.channel(c) + n);
        }
    }
    for (auto& yc : y) {
        yc.resize(static_cast<std::size_t>(total));
    }
    return y;
}

struct ErrorStats {
    double relativeRmsDb = 0;
    double maxAbs = 0;
};

ErrorStats compare(const std::vector<float>& got, const std::vector<double>& want, std::size_t from = 0,
                   std::size_t to = SIZE_MAX) {
    double e2 = 0;
    double s2 = 0;
    ErrorStats r;
    to = std::min(to, want.size());
    for (std::size_t n = from; n < to; ++n) {
        const double e = static_cast<double>(got[n]) - want[n];
        e2 += e * e;
        s2 += want[n] * want[n];
        r.maxAbs = std::max(r.maxAbs, std::abs(e));
    }
    r.relativeRmsDb = 10.0 * std::log10(e2 / s2);
    return r;
}

/// A random IR of `taps` taps with unit energy and an exponential decay (like a room), so that the
/// output has the input's level whatever the length.
std::vector<float> randomIr(std::size_t taps, std::uint64_t seed) {
    std::vector<float> h = test::noise(static_cast<Frames>(taps), 1.0, seed);
    double e = 0;
    for (std::size_t k = 0; k < taps; ++k) {
        h[k] *= static_cast<float>(std::exp(-3.0 * static_cast<double>(k) / static_cast<double>(taps)));
        e += static_cast<double>(h[k]) * h[k];
    }
    for (auto& v : h) {
        v = static_cast<float>(v / std::sqrt(e));
    }
    return h;
}

class ConvolutionSizes : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ConvolutionSizes, MatchesDirectDoubleConvolution) {
    const std::size_t taps = GetParam();
    const std::vector<float> h = randomIr(taps, 11 + taps);
    // For the 1M-tap case a short input keeps the direct reference affordable (1500 × 1M MACs);
    // it still crosses a block boundary and the response spans 128 partitions.
    const Frames inputFrames = taps > 100000 ? 1500 : 5 * kBlock + 123;
    std::vector<float> x = test::noise(inputFrames, 0.5, 7);
    if (taps > 100000) {
        x.insert(x.begin(), static_cast<std::size_t>(kBlock - 700), 0.0f);
    }
    const auto y = runConvolver(FilterMatrix::diagonal(1, h), {x});
    const auto want = directConvolution(x, h);
    const ErrorStats e = compare(y[0], want);
    EXPECT_LE(e.relativeRmsDb, test::kConvolutionRelativeRmsDb) << taps << " taps";
    EXPECT_LE(e.maxAbs, test::kConvolutionMaxAbs) << taps << " taps";
}

INSTANTIATE_TEST_SUITE_P(Taps, ConvolutionSizes,
                         ::testing::Values(1, 2, kBlock - 1, kBlock, kBlock + 1, 3 * kBlock + 7, 1u << 20),
                         [](const auto& p) { return "taps" + std::to_string(p.param); });

TEST(Convolution, SilenceAfterLoudPassageIsExactlyZero) {
    const std::vector<float> h = randomIr(3 * kBlock + 7, 3);
    std::vector<float> x = test::noise(4 * kBlock, 1.0, 5); // full-scale noise …
    x.resize(x.size() + 12 * kBlock, 0.0f);                 // … then digital silence
    const auto y = runConvolver(FilterMatrix::diagonal(1, h), {x});
    // Output block j depends on input blocks j−P−1 … j (P = partitions): once those are all zero it
    // is exactly zero, i.e. from the last loud sample + IR length + 2 blocks at the latest.
    const std::size_t silentFrom = 4 * kBlock + h.size() + 2 * kBlock;
    for (std::size_t n = silentFrom; n < y[0].size(); ++n) {
        ASSERT_EQ(y[0][n], 0.0f) << "frame " << n;
    }
}

TEST(Convolution, QuietPassageKeepsItsOwnPrecision) {
    // A loud passage, then a passage 80 dB quieter once the IR has rung out: the error of the
    // quiet part is relative to the quiet part (partitioned), not to the loud one.
    const std::vector<float> h = randomIr(2 * kBlock, 9);
    std::vector<float> x = test::noise(4 * kBlock, 1.0, 1);
    x.resize(x.size() + 2 * kBlock + h.size(), 0.0f);
    const std::size_t quietFrom = x.size();
    const std::vector<float> quiet = test::noise(6 * kBlock, 1e-4, 2);
    x.insert(x.end(), quiet.begin(), quiet.end());
    const auto y = runConvolver(FilterMatrix::diagonal(1, h), {x});
    const auto want = directConvolution(x, h);
    const ErrorStats e = compare(y[0], want, quietFrom + 2 * kBlock, quietFrom + quiet.size());
    EXPECT_LE(e.relativeRmsDb, test::kConvolutionRelativeRmsDb);
}

TEST(Convolution, PieceSizeDoesNotChangeTheResult) {
    const std::vector<float> h = randomIr(5 * kBlock + 3, 4);
    const std::vector<float> x = test::noise(20 * kBlock, 0.5, 8);
    const auto a = runConvolver(FilterMatrix::diagonal(1, h), {x}, 1);
    const auto b = runConvolver(FilterMatrix::diagonal(1, h), {x}, 40);
    ASSERT_EQ(a[0].size(), b[0].size());
    for (std::size_t n = 0; n < a[0].size(); ++n) {
        ASSERT_EQ(a[0][n], b[0][n]) << "frame " << n;
    }
}

TEST(Convolution, TrueStereoMatrixMatchesDirect) {
    // LL, LR, RL, RR paths of different lengths (a true-stereo reverb).
    FilterMatrix m;
    m.inputs = 2;
    m.outputs = 2;
    m.filters = {randomIr(kBlock + 5, 1), randomIr(100, 2), randomIr(2 * kBlock, 3), randomIr(7, 4)};
    m.paths = {{0, 0, 0}, {0, 1, 1}, {1, 0, 2}, {1, 1, 3}};
    const std::vector<std::vector<float>> x = {test::noise(3 * kBlock, 0.5, 21),
                                               test::noise(3 * kBlock, 0.5, 22)};
    const auto y = runConvolver(m, x);
    for (int o = 0; o < 2; ++o) {
        std::vector<double> want(y[static_cast<std::size_t>(o)].size(), 0.0);
        for (const FilterPath& p : m.paths) {
            if (p.output != o) {
                continue;
            }
            const auto part = directConvolution(x[static_cast<std::size_t>(p.input)],
                                                m.filters[static_cast<std::size_t>(p.filter)]);
            for (std::size_t n = 0; n < part.size() && n < want.size(); ++n) {
                want[n] += part[n];
            }
        }
        const ErrorStats e = compare(y[static_cast<std::size_t>(o)], want);
        EXPECT_LE(e.relativeRmsDb, test::kConvolutionRelativeRmsDb) << "output " << o;
        EXPECT_LE(e.maxAbs, test::kConvolutionMaxAbs) << "output " << o;
    }
}

TEST(Convolution, MalformedMatricesAreRefused) {
    FilterMatrix m = FilterMatrix::diagonal(2, {1.0f, 0.5f});
    m.paths.push_back({0, 0, 0});
    EXPECT_THROW(makeCpuConvolver(m, {}), UsageError);
    FilterMatrix nan = FilterMatrix::diagonal(1, {1.0f, std::nanf("")});
    EXPECT_THROW(makeCpuConvolver(nan, {}), UsageError);
    FilterMatrix empty = FilterMatrix::diagonal(1, {});
    EXPECT_THROW(makeCpuConvolver(empty, {}), UsageError);
}

} // namespace
} // namespace lathe
