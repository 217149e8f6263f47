// Lathe: streaming audio file reader (libsndfile) with input validation.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/AudioFormat.h>
#include <lathe/AudioSource.h>

#include <filesystem>
#include <memory>
#include <optional>

namespace lathe {

/// Reads any format libsndfile 1.2 decodes (WAV, RF64, W64, AIFF, CAF, FLAC, Ogg Vorbis/Opus,
/// MP3, …) as 32-bit float in chunks of the caller's size; memory use does not depend on the
/// file's length.
///
/// Validation at open (each failure throws InputError naming the file and the cause):
/// unreadable or unrecognised file, 0 or more than kMaxChannels channels, sample rate outside
/// [kMinSampleRate, kMaxSampleRate]. A file whose header promises more audio than it holds (the
/// classic truncated WAV, which libsndfile opens silently) is flagged in info().truncated with a
/// warning, or rejected when Options::strict is set. A decoder error mid-stream (truncated FLAC,
/// lost sync) throws InputError from read().
///
/// Integer PCM is scaled by 2^−(bits−1) (16-bit code q reads as q/32768 exactly), so integer input
/// survives a float round trip bit for bit (see lathe/math/Quantize.h). Float files are passed
/// through unchanged, including values beyond ±1.0 and NaN/Inf (the caller decides about those).
///
/// Not thread-safe; one reader per thread.
class AudioReader final : public AudioSource {
public:
    struct Options {
        bool strict = false; ///< a truncated file is an error instead of a warning
        /// Use this layout instead of the file's (e.g. a 6-channel WAV without a channel mask).
        /// Must have the file's channel count.
        std::optional<ChannelLayout> layout;
    };

    explicit AudioReader(const std::filesystem::path& path);
    AudioReader(const std::filesystem::path& path, const Options& options);
    ~AudioReader();
    AudioReader(const AudioReader&) = delete;
    AudioReader& operator=(const AudioReader&) = delete;

    const AudioFileInfo& info() const noexcept;

    /// Reads up to `maxFrames` frames into `dst` (reset to the file's channel count). Returns the
    /// number read, 0 at the end of the audio. Throws InputError on a decoder error, and on a short
    /// file in strict mode.
    Frames read(AudioBuffer& dst, Frames maxFrames) override;

    // AudioSource
    std::string sourceName() const override;
    SampleRate sampleRate() const override;
    int channelCount() const override;
    ChannelLayout channelLayout() const override;
    Frames totalFrames() const override;
    int integerBits() const override;
    std::optional<std::filesystem::path> filePath() const override { return info().path; }
    std::vector<std::string> warnings() const override { return info().warnings; }

    /// Current frame position (frames read so far, or the last seek target).
    Frames position() const noexcept;

    /// Moves to `frame` (0 ≤ frame ≤ info().frames). Throws InputError if the file is not seekable.
    void seek(Frames frame);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace lathe
