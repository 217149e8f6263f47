// Lathe: summaries over per-channel sample statistics (one math::SampleStats per channel).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Types.h>
#include <lathe/math/SampleStats.h>

#include <span>

namespace lathe {

/// Largest |sample| over all channels (linear, 1.0 = 0 dBFS); 0 for silence or no channels.
float peakOf(std::span<const math::SampleStats> channels);

/// Total NaN/±Inf samples over all channels.
Frames nonFiniteOf(std::span<const math::SampleStats> channels);

/// Where a sample sits: channel index (0-based) and frame.
struct SamplePosition {
    int channel = -1; ///< −1 when there is no such sample
    Frames frame = -1;
};

/// The first non-finite sample: lowest frame, then lowest channel.
SamplePosition firstNonFiniteOf(std::span<const math::SampleStats> channels);

} // namespace lathe
