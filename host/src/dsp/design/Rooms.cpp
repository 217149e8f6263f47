// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/design/Rooms.h>
#include <lathe/math/Biquad.h>
#include <lathe/math/Random.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace lathe::design {
namespace {

/// RBJ cookbook second-order Butterworth low/high-pass (Q = 1/√2); two in series make a
/// Linkwitz–Riley band split for the decay bands.
math::BiquadD butterworth(bool highPass, double hz, SampleRate fs) {
    const double w0 = 2.0 * std::numbers::pi * hz / fs;
    const double c = std::cos(w0);
    const double alpha = std::sin(w0) / (2.0 * std::numbers::sqrt2 / 2.0);
    const double a0 = 1.0 + alpha;
    const double b0 = highPass ? (1.0 + c) / 2.0 : (1.0 - c) / 2.0;
    const double b1 = highPass ? -(1.0 + c) : (1.0 - c);
    return {b0 / a0, b1 / a0, b0 / a0, -2.0 * c / a0, (1.0 - alpha) / a0};
}

} // namespace

const std::vector<RoomSpec>& builtinRooms() {
    static const std::vector<RoomSpec> rooms = {
        {"glue-room", "small dense room, RT60 0.45 s: cohesion without audible space", 0.5, 0.45, 0.3, 4.0, 6,
         18.0, 101},
        {"chamber", "echo chamber, RT60 1.0 s, warm", 1.1, 1.0, 0.7, 8.0, 8, 35.0, 102},
        {"plate", "bright plate, RT60 1.8 s, no discrete reflections", 1.5, 1.8, 1.4, 2.0, 0, 0.0, 103},
        {"hall", "concert hall, RT60 2.2 s", 2.6, 2.2, 1.5, 15.0, 10, 60.0, 104},
        {"cathedral", "very large space, RT60 4.8 s (an 8 s IR)", 5.0, 4.8, 3.2, 20.0, 12, 90.0, 105},
    };
    return rooms;
}

const RoomSpec* findRoom(const std::string& name) {
    for (const RoomSpec& r : builtinRooms()) {
        if (r.name == name) {
            return &r;
        }
    }
    return nullptr;
}

AudioBuffer generateRoomIr(const RoomSpec& room, SampleRate fs) {
    const double longest = std::max({room.rt60LowS, room.rt60MidS, room.rt60HighS});
    const Frames length = static_cast<Frames>(std::ceil(longest * 5.0 / 3.0 * fs));
    AudioBuffer ir(2, length);
    ir.setFrames(length);
    const double ln1000 = std::log(1000.0); // 60 dB of amplitude
    for (int c = 0; c < 2; ++c) {
        const math::BiquadD lp = butterworth(false, kRoomLowSplitHz, fs);
        const math::BiquadD hp = butterworth(true, kRoomHighSplitHz, fs);
        math::BiquadStateD lp1{0, 0}, lp2{0, 0}, hp1{0, 0}, hp2{0, 0};
        const double dLow = std::exp(-ln1000 / (room.rt60LowS * fs));
        const double dMid = std::exp(-ln1000 / (room.rt60MidS * fs));
        const double dHigh = std::exp(-ln1000 / (room.rt60HighS * fs));
        double eLow = 1.0, eMid = 1.0, eHigh = 1.0;
        const double onsetFrames = std::max(1.0, room.onsetMs * 1e-3 * fs);
        float* out = ir.channel(c);
        for (Frames n = 0; n < length; ++n) {
            const std::uint64_t bits =
                math::hashCounter(room.seed, static_cast<std::uint32_t>(c), static_cast<std::uint64_t>(n));
            const double noise = math::uniformFromBits(static_cast<std::uint32_t>(bits)) +
                                 math::uniformFromBits(static_cast<std::uint32_t>(bits >> 32)) - 1.0;
            const double low = math::biquadTdf2(lp, lp2, math::biquadTdf2(lp, lp1, noise));
            const double high = math::biquadTdf2(hp, hp2, math::biquadTdf2(hp, hp1, noise));
            const double mid = noise - low - high;
            const double t = static_cast<double>(n);
            const double onset =
                t < onsetFrames ? 0.5 - 0.5 * std::cos(std::numbers::pi * t / onsetFrames) : 1.0;
            out[n] = static_cast<float>(onset * (low * eLow + mid * eMid + high * eHigh));
            eLow *= dLow;
            eMid *= dMid;
            eHigh *= dHigh;
        }
        // Early reflections: single taps, spread over earlySpreadMs, decaying, with random signs and
        // times that differ between the channels.
        for (int k = 0; k < room.earlyReflections; ++k) {
            const std::uint64_t bits = math::hashCounter(room.seed ^ 0x5eedull, static_cast<std::uint32_t>(c),
                                                         static_cast<std::uint64_t>(k));
            const double u = math::uniformFromBits(static_cast<std::uint32_t>(bits));
            const double ms = room.earlySpreadMs * (k + 0.5 + 0.8 * (u - 0.5)) / room.earlyReflections;
            const Frames at = std::min(length - 1, static_cast<Frames>(ms * 1e-3 * fs));
            const double sign = (bits >> 40) & 1u ? 1.0 : -1.0;
            out[at] += static_cast<float>(sign * 0.8 * std::exp(-ms / std::max(1.0, room.earlySpreadMs)));
        }
    }
    return ir;
}

} // namespace lathe::design
