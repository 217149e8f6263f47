// Lathe: synthetic impulse responses (the built-in rooms and plates of the convolution reverb).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/Types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lathe::design {

/// A room made by Lathe's own code (no recorded IR, so nothing to license):
/// exponentially decaying Gaussian-like noise in three bands with their own RT60 (the time to decay
/// by 60 dB), a smooth onset, a handful of discrete early reflections, independent noise per
/// channel (a decorrelated stereo tail), and a deterministic seed. Length: until the slowest band
/// is 100 dB down (RT60 × 5/3).
struct RoomSpec {
    std::string name;
    std::string description;
    double rt60LowS = 1.0;  ///< below 250 Hz
    double rt60MidS = 1.0;  ///< 250 Hz – 4 kHz
    double rt60HighS = 0.7; ///< above 4 kHz
    double onsetMs = 8.0;   ///< the diffuse tail fades in over this time
    int earlyReflections = 6;
    double earlySpreadMs = 25.0; ///< reflections arrive within this time
    std::uint64_t seed = 1;
};

/// The built-in rooms: glue-room, chamber, plate, hall, cathedral.
const std::vector<RoomSpec>& builtinRooms();
/// The named built-in room, or nullptr.
const RoomSpec* findRoom(const std::string& name);

/// Band edges of the three decay bands.
inline constexpr double kRoomLowSplitHz = 250.0;
inline constexpr double kRoomHighSplitHz = 4000.0;

/// The stereo IR of `room` at `fs` (2 channels, unnormalised: the reverb stage normalises).
AudioBuffer generateRoomIr(const RoomSpec& room, SampleRate fs);

} // namespace lathe::design
