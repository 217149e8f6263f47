// Lathe: anything a render can pull audio from (a file reader, a signal generator).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/ChannelLayout.h>
#include <lathe/Types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

class AudioSource {
public:
    virtual ~AudioSource() = default;

    /// Names the source in messages (the file path, or e.g. "demo mix generator").
    virtual std::string sourceName() const = 0;
    virtual SampleRate sampleRate() const = 0;
    virtual int channelCount() const = 0;
    virtual ChannelLayout channelLayout() const = 0;
    /// Total frames the source will deliver (for progress and output length estimates).
    virtual Frames totalFrames() const = 0;
    /// Bits of the source's integer sample grid (16, 24, …), or 0 when samples are not on an
    /// integer grid (float, lossy, synthesised). Decides whether integer output needs dither.
    virtual int integerBits() const = 0;
    /// The file behind the source, if any (used to refuse writing over it).
    virtual std::optional<std::filesystem::path> filePath() const { return std::nullopt; }
    /// Problems found so far that did not stop reading (truncation, …); may grow while reading.
    virtual std::vector<std::string> warnings() const { return {}; }
    /// Reads up to `maxFrames` planar float frames into `dst`; returns the count, 0 at the end.
    virtual Frames read(AudioBuffer& dst, Frames maxFrames) = 0;
};

} // namespace lathe
