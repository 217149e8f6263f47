// Lathe: sample-rate conversion stage (libsoxr, very high quality, linear phase).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Stage.h>

#include <memory>
#include <vector>

namespace lathe {

/// Converts the stream to `targetRate` with libsoxr's very-high-quality recipe (28-bit precision,
/// linear phase, passband to 0.913·Nyquist of the lower rate with ≤ 0.01 dB roll-off).
///
/// Latency: libsoxr removes its own filter delay, so latency() is 0 and output frame m is the
/// input signal at time m / targetRate. Length: exactly round(inputFrames × target / source)
/// frames in total (the last partial filter output is trimmed or zero-padded to that count).
/// A stage whose input is already at the target rate is a bit-exact pass-through.
class ResampleStage final : public Stage {
public:
    /// `threads`: worker threads libsoxr may use (1 = the calling thread only).
    explicit ResampleStage(SampleRate targetRate, unsigned threads = 1);
    ~ResampleStage() override;

    std::string name() const override { return "resample"; }
    StreamFormat prepare(const StreamFormat& input, Frames maxBlockFrames) override;
    bool altersSamples() const override;
    void process(const AudioBuffer& in, AudioBuffer& out) override;
    void flush(AudioBuffer& out) override;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// Resamples one whole in-memory signal (an impulse response) with the same recipe as
/// ResampleStage: round(x.size() × to / from) samples, filter delay removed. Throws on soxr errors.
std::vector<float> resampleSignal(const std::vector<float>& x, SampleRate from, SampleRate to);

} // namespace lathe
