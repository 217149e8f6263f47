// SPDX-License-Identifier: GPL-3.0-or-later
// lathe/math/Loudness.h's true-peak search helpers against brute force over a small grid.
#include <lathe/math/Loudness.h>

#include <gtest/gtest.h>

#include <vector>

namespace lathe::math {
namespace {

// The ×4 sequence of a step is v[4n + p]; a point is a candidate when it is not below either
// neighbour in that sequence, the step's edges counting as zero — checked against the flat index.
TEST(LoudnessMath, SearchLocalMaxIsTheFlatSequencesLocalMax) {
    const std::vector<float> flat = {0.1f, 0.5f, 0.5f, 0.2f, 0.9f, 0.3f, 0.3f, 0.8f,
                                     0.8f, 0.1f, 0.0f, 0.7f, 0.6f, 0.6f, 0.6f, 1.0f};
    const long long begin = 10;
    const long long end = 14; // samples 10..13: four of them, 16 grid points
    auto at = [&](long long n, int p) { return flat[static_cast<std::size_t>((n - begin) * 4 + p)]; };
    for (long long n = begin; n < end; ++n) {
        for (int p = 0; p < 4; ++p) {
            const std::size_t k = static_cast<std::size_t>((n - begin) * 4 + p);
            const float prev = k == 0 ? 0.0f : flat[k - 1];
            const float next = k + 1 == flat.size() ? 0.0f : flat[k + 1];
            EXPECT_EQ(isSearchLocalMax(at, n, p, begin, end, flat[k]), flat[k] >= prev && flat[k] >= next)
                << "n " << n << " p " << p;
        }
    }
}

// ±3 points on the ×16 grid around (n, p): the flat ×16 index 16n + 4p + d, split again.
TEST(LoudnessMath, RefinePointWrapsAcrossSamples) {
    for (long long n = 5; n < 8; ++n) {
        for (int p = 0; p < 4; ++p) {
            for (int d = -3; d <= 3; ++d) {
                long long m = -1;
                const int ph = refinePoint(n, p, d, &m);
                const long long flat = 16 * n + 4 * p + d;
                EXPECT_EQ(m, flat / 16) << n << " " << p << " " << d;
                EXPECT_EQ(ph, flat % 16) << n << " " << p << " " << d;
            }
        }
    }
}

} // namespace
} // namespace lathe::math
