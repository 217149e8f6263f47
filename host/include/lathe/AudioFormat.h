// Lathe: file containers and sample encodings Lathe reads and writes.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/ChannelLayout.h>
#include <lathe/Types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

/// Containers. Reading accepts everything libsndfile 1.2 decodes; writing supports Wav (which
/// becomes RF64 automatically past 4 GiB), Rf64 (forced), Aiff and Flac.
enum class Container { Wav, Rf64, W64, Aiff, Flac, Ogg, Mp3, Caf, Other };

/// Sample encodings as stored in the file.
enum class Encoding { PcmU8, PcmS8, Pcm16, Pcm24, Pcm32, Float32, Float64, Vorbis, Opus, Mp3, Other };

std::string_view containerName(Container c); ///< "wav", "rf64", "w64", "aiff", "flac", …
std::string_view encodingName(Encoding e);   ///< "pcm16", "pcm24", "float32", "vorbis", …

/// Bits of an integer PCM encoding (8/16/24/32); 0 for float and lossy encodings.
int integerBits(Encoding e);

/// Output sample formats: integer PCM is dithered and clipped by the quantiser; float is exact.
enum class SampleFormat { Pcm16, Pcm24, Float32 };

std::string_view sampleFormatName(SampleFormat f); ///< "16", "24", "32f"
int sampleFormatBits(SampleFormat f);              ///< 16, 24, 32
int sampleFormatBytes(SampleFormat f);             ///< 2, 3, 4
bool isInteger(SampleFormat f);

/// Parses "16", "24", "32f" (also "float"). Throws UsageError.
SampleFormat parseSampleFormat(std::string_view text);
/// Parses a writable container name: "wav", "rf64", "aiff" ("aif"), "flac". Throws UsageError.
Container parseOutputContainer(std::string_view text);
/// The writable container implied by a file extension (".wav", ".flac", ".aif", ".aiff", ".rf64"),
/// or nullopt for an unknown extension.
std::optional<Container> containerForExtension(const std::filesystem::path& path);

/// What a reader learned about an input file.
struct AudioFileInfo {
    std::filesystem::path path;
    Container container = Container::Other;
    Encoding encoding = Encoding::Other;
    std::string formatDescription; ///< libsndfile's own name of the major format, for display
    SampleRate sampleRate = 0;
    int channels = 0;
    ChannelLayout layout;
    Frames frames = 0;          ///< frames that can actually be read
    Frames declaredFrames = -1; ///< frames the header promised, when it promised more than exist
    bool truncated = false;     ///< the header promised more audio than the file holds
    std::vector<std::string> warnings;

    double durationSeconds() const { return framesToSeconds(frames, sampleRate); }
};

} // namespace lathe
