// Lathe: basic quantities with their units in the name.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>

namespace lathe {

/// A count or position of sample frames (one sample per channel). 64-bit: a 3-hour 192 kHz file
/// has 2.07e9 frames, and frames × channels passes 2^31 much sooner.
using Frames = std::int64_t;

/// Sample rate in Hz (frames per second). Integer, as in every file format Lathe reads.
using SampleRate = std::int32_t;

/// Limits Lathe enforces on every input (documented in README, tested in tests/unit/ReaderTest).
inline constexpr SampleRate kMinSampleRate = 8000;   ///< below this nothing Lathe does is meaningful
inline constexpr SampleRate kMaxSampleRate = 384000; ///< highest rate of any converter in use
inline constexpr int kMaxChannels = 64;              ///< 7.1.4 + headroom; libebur128 also caps at 64

/// Seconds for a frame count at a rate.
inline double framesToSeconds(Frames frames, SampleRate rate) {
    return static_cast<double>(frames) / static_cast<double>(rate);
}

/// Frames after converting `frames` from rate `from` to rate `to`, rounded to nearest (exact
/// integer arithmetic; the product stays below 2^63 for any file under 10^13 frames).
inline Frames convertedFrames(Frames frames, SampleRate from, SampleRate to) {
    return (frames * to + from / 2) / from;
}

} // namespace lathe
