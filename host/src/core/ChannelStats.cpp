// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/ChannelStats.h>

#include <algorithm>

namespace lathe {

float peakOf(std::span<const math::SampleStats> channels) {
    float p = 0.0f;
    for (const auto& s : channels) {
        p = std::max(p, s.peakAbs);
    }
    return p;
}

Frames nonFiniteOf(std::span<const math::SampleStats> channels) {
    Frames n = 0;
    for (const auto& s : channels) {
        n += s.nonFiniteCount;
    }
    return n;
}

SamplePosition firstNonFiniteOf(std::span<const math::SampleStats> channels) {
    SamplePosition first;
    for (std::size_t c = 0; c < channels.size(); ++c) {
        const Frames f = channels[c].firstNonFinite;
        if (f >= 0 && (first.frame < 0 || f < first.frame)) {
            first = {static_cast<int>(c), f};
        }
    }
    return first;
}

} // namespace lathe
