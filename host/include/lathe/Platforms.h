// Lathe: streaming-platform and broadcast loudness rules, and what they would do to a master.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// The table is assets/platforms.json (schema "lathe-platforms", version 1), compiled into the
// engine so that every build carries it; a user file with the same schema can replace it.
#pragma once

#include <lathe/Loudness.h>

#include <optional>
#include <string>
#include <vector>

namespace lathe {

enum class Normalization {
    UpAndDown, ///< playback gain towards the target both ways (possibly limited by peak headroom)
    DownOnly,  ///< loud tracks are turned down, quiet ones play as they are
    None,      ///< no normalisation (plays as delivered)
    Delivery,  ///< a delivery specification: the file itself must meet the target
};

struct Platform {
    std::string id;
    std::string name;
    std::optional<double> targetLufs; ///< none for platforms without normalisation
    double toleranceLu = 0.0;         ///< delivery specifications: allowed deviation
    double truePeakMaxDbtp = -1.0;    ///< the platform's advice / requirement
    Normalization normalization = Normalization::DownOnly;
    std::optional<double> upGainLimitDbtp; ///< up-gain stops where the true peak would pass this
    bool limiter = false;                  ///< the platform limits peaks after raising (Spotify Loud)
    std::string codec; ///< id in the codec table of the streams listeners get; empty: lossless/none
    std::string source;
    std::string date;
    std::string notes;
};

/// A lossy codec a platform streams with (the table's "codecs"), run for real by lathe/CodecPreview.h.
struct PlatformCodec {
    std::string id;      ///< "aac-256"
    std::string name;    ///< "AAC-LC 256 kbps"
    std::string encoder; ///< libavcodec encoder: aac, libvorbis, libopus, libmp3lame
    int bitrateKbps = 0;
    std::string source;
    std::string date;
};
/// The codec table of a platform file. Throws UsageError as parsePlatforms.
std::vector<PlatformCodec> parsePlatformCodecs(const std::string& json, const std::string& origin);
/// The built-in codec table (assets/platforms.json).
const std::vector<PlatformCodec>& builtinPlatformCodecs();

/// Parses a platform table. Throws UsageError naming `origin` and the offending field.
std::vector<Platform> parsePlatforms(const std::string& json, const std::string& origin);

/// The built-in table (assets/platforms.json at build time).
const std::vector<Platform>& builtinPlatforms();

/// What a platform would do to a measured master.
struct PlatformPreview {
    std::string id;
    std::string name;
    std::optional<double> gainDb;       ///< playback gain it applies (delivery: the correction needed)
    std::optional<double> loudnessLufs; ///< integrated loudness as heard after that gain
    std::optional<double> truePeakDbtp; ///< true peak after that gain (and the platform's limiter)
    std::optional<bool> truePeakOk;     ///< true peak after gain within the platform's advice
    std::optional<bool> compliant;      ///< delivery specifications: the file as it is meets the spec
    std::string note;                   ///< one sentence: what happens and why
};

std::vector<PlatformPreview> previewPlatforms(const LoudnessResult& loudness,
                                              const std::vector<Platform>& platforms);

std::string_view normalizationName(Normalization n); ///< "up-and-down", "down-only", "none", "delivery"

} // namespace lathe
