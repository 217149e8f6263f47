// SPDX-License-Identifier: GPL-3.0-or-later
#include "../../core/ParallelJobs.h"

#include <lathe/Error.h>
#include <lathe/Text.h>
#include <lathe/design/Crossover.h>
#include <lathe/design/EqDesign.h>

#include <algorithm>
#include <cmath>

namespace lathe::design {

CrossoverDesign designCrossover(const std::vector<double>& splitsHz, int slopeDbPerOctave, SampleRate fs,
                                int taps, unsigned threads) {
    if (splitsHz.empty() || splitsHz.size() > 5) {
        throw UsageError("a crossover has 1 to 5 split frequencies (2 to 6 bands), not " +
                         std::to_string(splitsHz.size()));
    }
    if (slopeDbPerOctave != 12 && slopeDbPerOctave != 24 && slopeDbPerOctave != 36 &&
        slopeDbPerOctave != 48) {
        throw UsageError("crossover slope " + std::to_string(slopeDbPerOctave) +
                         " dB/oct is not one of 12, 24, 36, 48");
    }
    for (std::size_t i = 0; i < splitsHz.size(); ++i) {
        if (!(splitsHz[i] > 10.0 && splitsHz[i] < 0.5 * fs) || (i > 0 && splitsHz[i] <= splitsHz[i - 1])) {
            throw UsageError("crossover split " + std::to_string(i + 1) + " (" + formatFixed(splitsHz[i], 0) +
                             " Hz) must be above 10 Hz, below Nyquist (" + formatFixed(0.5 * fs, 0) +
                             " Hz) and above the split before it");
        }
    }
    const int order = slopeDbPerOctave / 12;
    auto lowPass = [order](double split) {
        return [order, split](double hz) {
            double p = 1.0;
            for (int i = 0; i < 2 * order; ++i) {
                p *= hz / split;
            }
            return 1.0 / (1.0 + p);
        };
    };
    CrossoverDesign d;
    std::vector<FirDesign> lps;
    auto designAt = [&](int n) {
        // The splits' low-passes are independent: one a thread.
        lps.assign(splitsHz.size(), FirDesign{});
        detail::forEachIndex(splitsHz.size(), threads, [&](std::size_t i) {
            lps[i] = designLinearPhaseFir(lowPass(splitsHz[i]), fs, n);
        });
        d.maxErrorDb = 0.0;
        for (const FirDesign& lp : lps) {
            d.maxErrorDb = std::max(d.maxErrorDb, lp.maxErrorDb);
        }
        d.taps = n;
    };
    if (taps > 0) {
        designAt(taps);
    } else {
        // The EQ's rule, for the lowest split's transition (split · 6 / slope), then double until
        // the goal.
        int n = tapsForFeature(splitsHz.front() * 6.0 / slopeDbPerOctave, fs);
        designAt(n);
        while (d.maxErrorDb > kEqGoalDb && n < kEqMaxTaps) {
            n = nextTapCount(n);
            designAt(n);
        }
    }
    if (d.maxErrorDb > kEqToleranceDb) {
        d.warnings.push_back("the crossover follows its target within " + formatFixed(d.maxErrorDb, 2) +
                             " dB, more than " + formatFixed(kEqToleranceDb, 2) + " dB");
    }
    d.delay = lps.front().delay;
    // Differences of adjacent low-passes; they telescope to the centre impulse.
    const std::size_t n = static_cast<std::size_t>(d.taps);
    std::vector<double> previous(n, 0.0);
    for (const FirDesign& lp : lps) {
        std::vector<double> band(n);
        for (std::size_t k = 0; k < n; ++k) {
            band[k] = lp.taps[k] - previous[k];
        }
        d.bands.push_back(std::move(band));
        previous = lp.taps;
    }
    std::vector<double> top(n);
    for (std::size_t k = 0; k < n; ++k) {
        top[k] = (k == static_cast<std::size_t>(d.delay) ? 1.0 : 0.0) - previous[k];
    }
    d.bands.push_back(std::move(top));
    return d;
}

} // namespace lathe::design
