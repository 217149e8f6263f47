// Lathe: counter-based random numbers (shared CPU/GPU math).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/math/Hd.h>

#include <cstdint>

namespace lathe::math {

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix with good avalanche.
LATHE_HD inline std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// 64 random bits for the counter (seed, channel, frame). Stateless, so the value for a sample
/// does not depend on block size, thread layout or backend.
LATHE_HD inline std::uint64_t hashCounter(std::uint64_t seed, std::uint32_t channel, std::uint64_t frame) {
    return mix64(mix64(seed ^ (static_cast<std::uint64_t>(channel) * 0x9e3779b97f4a7c15ull)) + frame);
}

/// Uniform value in [0, 1) from 32 random bits, exactly representable in double.
LATHE_HD inline double uniformFromBits(std::uint32_t bits) {
    return static_cast<double>(bits) * (1.0 / 4294967296.0);
}

} // namespace lathe::math
