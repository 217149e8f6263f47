// Lathe: linear-phase crossovers for the multiband stages (double-precision design).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Types.h>

#include <string>
#include <vector>

namespace lathe::design {

/// K = splits + 1 complementary linear-phase band filters, all of the same odd length and delay.
///
/// Each split i has a zero-phase low-pass LP_i with the Linkwitz–Riley magnitude
/// 1 / (1 + (f/f_i)^(2n)), n = slope / 12 (24 dB/oct: n = 2), designed like the EQ (frequency
/// sampling, Kaiser window, pre-distortion, verified). The bands are differences of adjacent
/// low-passes: band 1 = LP_1, band k = LP_k − LP_{k−1}, band K = δ − LP_{K−1}, so they sum to a
/// pure delay exactly (in double; −150 dB after rounding the taps to float). Convention: at split
/// i, the sum of the bands below it (= LP_i) and the sum of the bands above it are each at
/// −6.02 dB (amplitude 1/2), in phase. A single band is at −6.02 dB at its edges when its splits
/// are far apart; between splits an octave apart it is lower there (LP_k has not reached 1).
struct CrossoverDesign {
    std::vector<std::vector<double>> bands; ///< K filters, lowest band first
    Frames delay = 0;                       ///< (taps − 1) / 2
    int taps = 0;
    double maxErrorDb = 0; ///< of the low-passes against their targets (EqDesign's measure)
    std::vector<std::string> warnings;
};

/// Splits must increase and lie in (10 Hz, fs/2). 1–5 splits (2–6 bands). `taps` = 0 chooses the
/// length like the EQ (doubling until 0.01 dB, up to 65535). Throws UsageError for bad splits.
/// The splits' low-passes are designed on up to `threads` threads (this one among them); the
/// design is the same to the bit on any number.
CrossoverDesign designCrossover(const std::vector<double>& splitsHz, int slopeDbPerOctave, SampleRate fs,
                                int taps = 0, unsigned threads = 1);

} // namespace lathe::design
