// Lathe: `lathe master` — one file through a preset's chain into a new file.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioReader.h>
#include <lathe/Preset.h>
#include <lathe/RenderJob.h>

#include <filesystem>
#include <optional>

namespace lathe {

struct MasterSettings {
    Preset preset;
    std::optional<SampleFormat>
        format; ///< default: 32-bit float for float input (24-bit in FLAC), else 24-bit
    std::optional<Container> container;   ///< default: from the output extension
    std::optional<SampleRate> sampleRate; ///< output rate (libsoxr VHQ, after the chain)
    DitherMode dither = DitherMode::Auto;
    std::uint64_t ditherSeed = kDefaultDitherSeed;
    NonFinitePolicy nonFinite = NonFinitePolicy::Error;
    TailPolicy tail = TailPolicy::Keep;
    AudioReader::Options reader;
    unsigned threads = 0; ///< worker threads for convolution and resampling; 0 = all hardware threads
    WriterFaults faults;
};

/// The output format of a master (resolves the defaults above). Throws UsageError like
/// resolveConvertOptions.
RenderOptions resolveMasterOptions(const AudioFileInfo& input, const std::filesystem::path& output,
                                   const MasterSettings& settings);

/// Opens `input`, renders it through the preset's stages (designed for the input's rate and
/// channels) and an optional final rate conversion into `output`. Guarantees as render(): output
/// ≠ input, nothing half-written, latency removed exactly, tail by settings.tail.
RenderReport masterFile(const std::filesystem::path& input, const std::filesystem::path& output,
                        const MasterSettings& settings, Backend& backend, const JobControl& control = {});

} // namespace lathe
