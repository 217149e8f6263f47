// Lathe: `lathe info` — what a file is and what its samples look like.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioFormat.h>
#include <lathe/AudioReader.h>
#include <lathe/Backend.h>
#include <lathe/Progress.h>
#include <lathe/math/SampleStats.h>

#include <vector>

namespace lathe {

struct FileInspection {
    AudioFileInfo info;
    std::vector<math::SampleStats> stats; ///< per channel over the whole file
    std::vector<std::string> warnings;    ///< the reader's, plus non-finite samples and overs
};

/// Reads the whole file once (streaming, constant memory) and gathers per-channel statistics.
/// Never fails on sample content (NaN/Inf and overs become warnings); throws InputError for files
/// that cannot be read and CancelledError when cancelled.
FileInspection inspectFile(const std::filesystem::path& path, const AudioReader::Options& options,
                           Backend& backend, const JobControl& control = {});

/// Level in dBFS of a linear amplitude (20·log10), or −∞ for 0.
double amplitudeToDb(double linear);

} // namespace lathe
