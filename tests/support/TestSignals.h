// Lathe tests: test signals made in code, and file I/O through raw libsndfile (independent of
// Lathe's own reader and writer, so that a bug there cannot hide itself).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioSource.h>
#include <lathe/Stage.h>
#include <lathe/Types.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace lathe::test {

using Planar = std::vector<std::vector<float>>;

/// A·sin(2π·hz·n/fs + phase) for n = 0..frames−1, computed in double.
std::vector<float> sine(double hz, double amplitude, SampleRate fs, Frames frames, double phase = 0.0);

/// Least-squares fit of A·sin(2π·hz·(start+i)/fs + φ) + residual to x[0..n). Exact for any n (a
/// 2×2 normal-equation solve, not a DFT bin), so edge effects only enter through the residual.
struct SineFit {
    double amplitude = 0;
    double phase = 0;       ///< radians, in (−π, π]
    double residualRms = 0; ///< RMS of x minus the fitted sine
};
SineFit fitSine(const float* x, Frames n, double hz, SampleRate fs, Frames start);

/// Uniform white noise in [−amplitude, amplitude), deterministic for a seed.
std::vector<float> noise(Frames frames, double amplitude, std::uint64_t seed);

/// Writes planar float audio with raw libsndfile in `format` (e.g. SF_FORMAT_WAV | SF_FORMAT_FLOAT).
void writeRawFloat(const std::filesystem::path& p, const Planar& audio, SampleRate fs, int format);
/// Writes planar left-justified 32-bit codes with raw libsndfile (exact for 16/24-bit subtypes).
void writeRawInt(const std::filesystem::path& p, const std::vector<std::vector<std::int32_t>>& audio,
                 SampleRate fs, int format);
/// Reads a file with raw libsndfile.
Planar readRawFloat(const std::filesystem::path& p, SampleRate* fs = nullptr);
std::vector<std::vector<std::int32_t>> readRawInt(const std::filesystem::path& p);
/// libsndfile's SF_INFO.format of a file.
int rawFormatOf(const std::filesystem::path& p);

/// A WAVE_FORMAT_PCM header (44 bytes) with the given fields, for hand-made bad files.
std::vector<std::uint8_t> wavHeader(int channels, std::uint32_t rate, int bits, std::uint32_t dataBytes);

/// An in-memory AudioSource.
class MemorySource final : public AudioSource {
public:
    MemorySource(Planar audio, SampleRate fs, int integerBits = 0);
    /// With a stated layout (multichannel tests).
    MemorySource(Planar audio, SampleRate fs, ChannelLayout layout);
    std::string sourceName() const override { return "memory"; }
    SampleRate sampleRate() const override { return m_fs; }
    int channelCount() const override { return static_cast<int>(m_audio.size()); }
    ChannelLayout channelLayout() const override;
    Frames totalFrames() const override;
    int integerBits() const override { return m_bits; }
    Frames read(AudioBuffer& dst, Frames maxFrames) override;

private:
    Planar m_audio;
    SampleRate m_fs;
    int m_bits;
    ChannelLayout m_layout;
    Frames m_position = 0;
};

/// Resamples one channel in one go through ResampleStage (test-side convenience).
std::vector<float> resampleOffline(const std::vector<float>& x, SampleRate from, SampleRate to);

/// Level of a − b relative to b, in dB (−∞ when equal): how well a result "nulls" against a reference.
double nullDb(const std::vector<float>& a, const std::vector<float>& b);

/// True peak by brute force (dBTP): ×16, 64-tap Kaiser (β = 10) windowed sinc per phase, in
/// double, at every sample — written independently of lathe/design (and slower by far).
double referenceTruePeakDb(const Planar& x);

/// Splits a stream of JSON documents printed one per line.
std::vector<std::string> lines(const std::string& text);

/// A stage that delays its input by `latency` frames and declares it: the render must remove it.
/// With `tail` > 0 it also emits that many frames of a constant 0.25 after the input (a fake tail).
class DelayStage final : public Stage {
public:
    explicit DelayStage(Frames latency, Frames tail = 0) : m_latency(latency), m_tail(tail) {}
    std::string name() const override { return "test-delay"; }
    StreamFormat prepare(const StreamFormat& input, Frames) override;
    Frames latency() const override { return m_latency; }
    Frames tail() const override { return m_tail; }
    void process(const AudioBuffer& in, AudioBuffer& out) override;
    void flush(AudioBuffer& out) override;

private:
    Frames m_latency;
    Frames m_tail;
    int m_channels = 0;
    bool m_started = false;
    bool m_flushed = false;
    AudioBuffer m_pending;
};

/// One channel of silence, 10 blocks of 1024 frames, whose third read throws InputError
/// ("failing.wav: decoding failed at frame 2048"), as a truncated file's decoder does.
class FailingSource final : public AudioSource {
public:
    std::string sourceName() const override { return "failing"; }
    SampleRate sampleRate() const override { return 48000; }
    int channelCount() const override { return 1; }
    ChannelLayout channelLayout() const override { return ChannelLayout::fromConvention(1); }
    Frames totalFrames() const override { return 10 * 1024; }
    int integerBits() const override { return 0; }
    Frames read(AudioBuffer& dst, Frames maxFrames) override;

private:
    int m_reads = 0;
};

} // namespace lathe::test
