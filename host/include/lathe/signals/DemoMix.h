// Lathe: a deterministic, music-like stereo mix synthesised in code (demo and benchmark audio).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioSource.h>

#include <cstdint>
#include <memory>

namespace lathe::signals {

struct DemoMixSettings {
    SampleRate sampleRate = 48000;
    double durationSeconds = 60.0;
    std::uint64_t seed = 1;
};

/// A 120 BPM song in A minor (Am–F–C–G), generated sample by sample so that any length streams in
/// constant memory:
///   bars 0–3 quiet intro (pad, hats), 4–11 verse (kick, hats, bass, pad, vocal line),
///   12–19 chorus (+ snare, 16th hats, brighter pad), 20–23 break (pad and vocal only, no drums),
///   24–31 chorus; then the form repeats from the verse. The last 2 s fade out.
/// Voices: pitch-swept sine kick with a click, tone+noise snare, high-passed noise hats,
/// band-limited saw bass through a resonant low-pass, detuned saw pad spread in stereo, and a
/// "vocal-like" line: a vibrato saw through three formant band-passes cycling through vowels.
/// The same settings always give the same samples (counter-based noise, no global state).
/// Peak level stays below −1 dBFS (soft saturation on the bus), integrated loudness is roughly
/// −16 to −19 LUFS: a finished but unmastered mix with headroom.
class DemoMix final : public AudioSource {
public:
    explicit DemoMix(const DemoMixSettings& settings);
    ~DemoMix() override;

    std::string sourceName() const override { return "demo mix generator"; }
    SampleRate sampleRate() const override;
    int channelCount() const override { return 2; }
    ChannelLayout channelLayout() const override { return ChannelLayout::fromConvention(2); }
    Frames totalFrames() const override;
    int integerBits() const override { return 0; }
    Frames read(AudioBuffer& dst, Frames maxFrames) override;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace lathe::signals
