// Lathe: atomic audio file writer (libsndfile over a checked, buffered file descriptor).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioFormat.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

/// What to write.
struct OutputSpec {
    Container container = Container::Wav;
    SampleFormat format = SampleFormat::Pcm24;
    SampleRate sampleRate = 48000;
    int channels = 2;
    ChannelLayout layout;       ///< written as the channel mask where the container has one
    Frames expectedFrames = -1; ///< best estimate of the final length (−1: unknown); see chooseWavHeader
    /// false only for a scratch file its maker deletes after use (the targeting's pre-limiter
    /// intermediate): no fsync before the rename and no early write-back, so its pages need never
    /// reach the disk. Still written to a temporary name and renamed when complete.
    bool durable = true;
};

/// Test hooks for fault injection. Production code leaves them empty.
struct WriterFaults {
    /// Simulate a full disk: after this many bytes every write fails with ENOSPC.
    std::optional<std::uint64_t> failAfterBytes;
    /// Simulate a failing fsync (EIO) at commit.
    bool failFsync = false;
    /// Simulate a failing rename at commit.
    bool failRename = false;
    /// Replace the 4 GiB RIFF/AIFF data limit (to test the guard without writing 4 GiB).
    std::optional<std::uint64_t> riffLimitBytes;
};

/// Which header a WAV output gets.
enum class WavHeader {
    Riff, ///< classic RIFF/WAVE: 32-bit sizes, at most 4 GiB of data
    Rf64, ///< EBU Tech 3306 RF64 with 64-bit sizes. For Container::Wav libsndfile downgrades it to
          ///< RIFF at close when the data turned out small (SFC_RF64_AUTO_DOWNGRADE); a forced
          ///< Container::Rf64 stays RF64.
};

/// Plain RIFF when the expected data size is known and stays below 4 GiB by a margin of 1%
/// (resampling estimates are exact to a few frames, so the margin is only a guard); RF64 when the
/// size is unknown or larger. Plain WAV silently corrupts past 4 GiB in libsndfile, and the writer
/// also refuses to write past that point if an estimate was wrong (it never happens silently).
WavHeader chooseWavHeader(Frames expectedFrames, int channels, int bytesPerSample);

/// Byte limit of a RIFF/AIFF data chunk (32-bit size field).
inline constexpr std::uint64_t kRiffDataLimitBytes = 0xffffffffull - 4096; // header room

/// Writes one audio file atomically.
///
/// The constructor creates a temporary file next to the destination (".<name>.lathe-XXXXXX"),
/// so a missing or read-only directory fails *before* any processing. Every write is checked
/// (short writes, ENOSPC, EIO). commit() finalises the header, fsyncs the file, renames it over the
/// destination and fsyncs the directory. If commit() is not reached (error, exception,
/// cancellation) the destructor deletes the temporary file; an existing file at the destination is
/// never touched until the rename, so it is either the old file or the complete new one.
///
/// Integer output takes left-justified 32-bit codes from the quantiser (lathe/math/Quantize.h);
/// libsndfile only truncates them to 16/24 bits, which is exact. Float output is written as is.
class AudioWriter {
public:
    AudioWriter(const std::filesystem::path& destination, const OutputSpec& spec);
    AudioWriter(const std::filesystem::path& destination, const OutputSpec& spec, const WriterFaults& faults);
    ~AudioWriter();
    AudioWriter(const AudioWriter&) = delete;
    AudioWriter& operator=(const AudioWriter&) = delete;

    const OutputSpec& spec() const noexcept;
    /// The container actually written: Wav or Rf64 (see chooseWavHeader), else spec().container.
    Container effectiveContainer() const noexcept;
    const std::filesystem::path& temporaryPath() const noexcept;
    Frames framesWritten() const noexcept;
    /// Things the caller should tell the user (e.g. a channel layout the container cannot store).
    const std::vector<std::string>& warnings() const noexcept;

    /// Appends interleaved float frames (only for SampleFormat::Float32).
    void writeFloat(const float* interleaved, Frames frames);
    /// Appends interleaved left-justified int32 frames (only for integer formats).
    void writeInt(const std::int32_t* interleaved, Frames frames);

    /// Completes the file (header, buffered bytes) under its temporary name, where it can be read
    /// back and checked before commit(). Throws OutputError; the temporary is removed.
    void finish();
    /// Completes the file (finish(), if not done) and moves it into place. Throws OutputError;
    /// the temporary is removed.
    void commit();
    /// Removes the temporary file now (also done by the destructor when not committed).
    void discard() noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// Refuses (OutputError) when `output` is the same file as `input`: same path after resolving
/// symlinks and "..", or the same inode (hard link). Writing over the input would destroy it
/// (libsndfile opens for writing with O_TRUNC).
void ensureDistinctFiles(const std::filesystem::path& input, const std::filesystem::path& output);

} // namespace lathe
