// SPDX-License-Identifier: GPL-3.0-or-later
// lathe/math/Loudness.h's true-peak search helpers against brute force over a small grid, and the
// segmented K-weighting (the GPU's scan) against one sequential pass.
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/math/Loudness.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

// Segments filtered from rest, their states carried by the transition matrix, then filtered again
// from their true starts, equal one pass from the start. The filters are BS.1770's published 48 kHz
// coefficients (an independent source, not our design code); a first segment shorter than the
// others and a last partial one, as in a chunk whose warm-up is not a whole number of segments.
TEST(LoudnessMath, SegmentedKWeightingEqualsOnePass) {
    const KWeighting k{
        {1.53512485958697, -2.69169618940638, 1.19839281085285, -1.69065929318241, 0.73248077421585},
        {1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621}};
    const std::vector<float> x = test::noise(20000, 0.8, 11);
    std::vector<double> want(x.size());
    KWeightingState s{};
    for (std::size_t i = 0; i < x.size(); ++i) {
        want[i] = kWeightSample(k, s, x[i]);
    }
    const long long length = 960;
    const long long first = 700; // segment 0: [0, 700), then [700 + j·960, …)
    std::vector<long long> starts = {0};
    for (long long b = first; b < static_cast<long long>(x.size()); b += length) {
        starts.push_back(b);
    }
    const auto n = static_cast<long long>(x.size());
    auto endOf = [&](std::size_t j) { return j + 1 < starts.size() ? starts[j + 1] : n; };
    // 1. From rest.
    std::vector<KWeightingState> fromRest(starts.size());
    for (std::size_t j = 0; j < starts.size(); ++j) {
        KWeightingState r{};
        for (long long i = starts[j]; i < endOf(j); ++i) {
            kWeightSample(k, r, x[static_cast<std::size_t>(i)]);
        }
        fromRest[j] = r;
    }
    // 2. Carried (segment 0 starts at rest, so segment 1 starts where it ended from rest).
    const KWeightingTransition t = kWeightingTransition(k, length);
    std::vector<KWeightingState> start(starts.size());
    for (std::size_t j = 1; j < starts.size(); ++j) {
        start[j] = j == 1 ? fromRest[0] : carryKWeighting(t, start[j - 1], fromRest[j - 1]);
    }
    // 3. Again from the true starts.
    double peak = 0.0;
    double worst = 0.0;
    for (std::size_t j = 0; j < starts.size(); ++j) {
        KWeightingState r = start[j];
        for (long long i = starts[j]; i < endOf(j); ++i) {
            const auto u = static_cast<std::size_t>(i);
            const double y = kWeightSample(k, r, x[u]);
            peak = std::max(peak, std::fabs(want[u]));
            worst = std::max(worst, std::fabs(y - want[u]));
        }
    }
    EXPECT_LE(worst, test::kKWeightingScanRelative * peak);
    EXPECT_GT(peak, 0.1); // the filters pass the noise
}

} // namespace
} // namespace lathe::math
