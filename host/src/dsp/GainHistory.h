// Lathe (private): the 100 ms gain-reduction histories the dynamics stages report.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Types.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace lathe::detail {

/// Steps of the histories: 100 ms.
inline constexpr double kGainHistoryStepSeconds = 0.1;

/// Keeps the largest `reductionDb` of each 100 ms step; `frame` is on the output's time axis
/// (negative frames, before the start, are ignored).
inline void recordReduction(std::vector<double>& history, Frames frame, SampleRate fs, double reductionDb) {
    if (frame < 0) {
        return;
    }
    const auto step = static_cast<std::size_t>(frame / std::max<Frames>(1, fs / 10));
    if (history.size() <= step) {
        history.resize(step + 1, 0.0);
    }
    history[step] = std::max(history[step], reductionDb);
}

} // namespace lathe::detail
