// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/Error.h>
#include <lathe/Platforms.h>
#include <lathe/Text.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace lathe {
namespace detail {
const char* builtinPlatformsJson(); // PlatformsData.cpp, generated from assets/platforms.json
}

namespace {

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& origin, const std::string& where, const std::string& what) {
    throw UsageError(origin + ": " + where + ": " + what);
}

std::optional<double> optionalNumber(const Json& j, const char* key, const std::string& origin,
                                     const std::string& where) {
    if (!j.contains(key) || j[key].is_null()) {
        return std::nullopt;
    }
    if (!j[key].is_number()) {
        bad(origin, where + "." + key, "must be a number or null");
    }
    return j[key].get<double>();
}

std::string text(const Json& j, const char* key, const std::string& origin, const std::string& where,
                 bool required) {
    if (!j.contains(key)) {
        if (required) {
            bad(origin, where, std::string("missing field '") + key + "'");
        }
        return {};
    }
    if (!j[key].is_string()) {
        bad(origin, where + "." + key, "must be a string");
    }
    return j[key].get<std::string>();
}

} // namespace

std::string_view normalizationName(Normalization n) {
    switch (n) {
    case Normalization::UpAndDown:
        return "up-and-down";
    case Normalization::DownOnly:
        return "down-only";
    case Normalization::None:
        return "none";
    case Normalization::Delivery:
        return "delivery";
    }
    return "?";
}

std::vector<Platform> parsePlatforms(const std::string& jsonText, const std::string& origin) {
    Json root;
    try {
        root = Json::parse(jsonText);
    } catch (const Json::parse_error& e) {
        throw UsageError(origin + ": not valid JSON: " + e.what());
    }
    if (!root.is_object() || root.value("schema", "") != "lathe-platforms") {
        bad(origin, "schema", "expected \"lathe-platforms\"");
    }
    if (!root.contains("version") || root["version"] != 1) {
        bad(origin, "version", "only version 1 is understood");
    }
    if (!root.contains("platforms") || !root["platforms"].is_array() || root["platforms"].empty()) {
        bad(origin, "platforms", "must be a non-empty array");
    }
    std::vector<Platform> out;
    for (std::size_t i = 0; i < root["platforms"].size(); ++i) {
        const Json& j = root["platforms"][i];
        const std::string where = "platforms[" + std::to_string(i) + "]";
        if (!j.is_object()) {
            bad(origin, where, "must be an object");
        }
        Platform p;
        p.id = text(j, "id", origin, where, true);
        p.name = text(j, "name", origin, where, true);
        const std::string at = where + " (" + p.id + ")";
        const std::string norm = text(j, "normalization", origin, at, true);
        if (norm == "up-and-down") {
            p.normalization = Normalization::UpAndDown;
        } else if (norm == "down-only") {
            p.normalization = Normalization::DownOnly;
        } else if (norm == "none") {
            p.normalization = Normalization::None;
        } else if (norm == "delivery") {
            p.normalization = Normalization::Delivery;
        } else {
            bad(origin, at + ".normalization",
                "'" + norm + "' is not one of up-and-down, down-only, none, delivery");
        }
        p.targetLufs = optionalNumber(j, "target_lufs", origin, at);
        if (p.normalization != Normalization::None && !p.targetLufs) {
            bad(origin, at + ".target_lufs", "required unless normalization is none");
        }
        if (p.targetLufs && (*p.targetLufs < -40.0 || *p.targetLufs > 0.0)) {
            bad(origin, at + ".target_lufs", "must lie between -40 and 0 LUFS");
        }
        const auto tp = optionalNumber(j, "true_peak_max_dbtp", origin, at);
        if (!tp) {
            bad(origin, at, "missing field 'true_peak_max_dbtp'");
        }
        p.truePeakMaxDbtp = *tp;
        p.toleranceLu = optionalNumber(j, "tolerance_lu", origin, at).value_or(0.0);
        p.upGainLimitDbtp = optionalNumber(j, "up_gain_limit_dbtp", origin, at);
        if (j.contains("limiter") && !j["limiter"].is_boolean()) {
            bad(origin, at + ".limiter", "must be true or false");
        }
        p.limiter = j.value("limiter", false);
        p.source = text(j, "source", origin, at, true);
        p.date = text(j, "date", origin, at, true);
        p.notes = text(j, "notes", origin, at, false);
        if (j.contains("codec") && !j["codec"].is_null()) {
            p.codec = text(j, "codec", origin, at, true);
            const auto codecs = parsePlatformCodecs(jsonText, origin);
            if (std::none_of(codecs.begin(), codecs.end(),
                             [&](const PlatformCodec& c) { return c.id == p.codec; })) {
                bad(origin, at + ".codec", "'" + p.codec + "' is not in the table's codecs");
            }
        }
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<PlatformCodec> parsePlatformCodecs(const std::string& jsonText, const std::string& origin) {
    Json root;
    try {
        root = Json::parse(jsonText);
    } catch (const Json::parse_error& e) {
        throw UsageError(origin + ": not valid JSON: " + e.what());
    }
    std::vector<PlatformCodec> out;
    if (!root.is_object() || !root.contains("codecs")) {
        return out;
    }
    if (!root["codecs"].is_array()) {
        bad(origin, "codecs", "must be an array");
    }
    static const std::vector<std::string> kEncoders = {"aac", "libvorbis", "libopus", "libmp3lame"};
    for (std::size_t i = 0; i < root["codecs"].size(); ++i) {
        const Json& j = root["codecs"][i];
        const std::string where = "codecs[" + std::to_string(i) + "]";
        if (!j.is_object()) {
            bad(origin, where, "must be an object");
        }
        PlatformCodec c;
        c.id = text(j, "id", origin, where, true);
        c.name = text(j, "name", origin, where, true);
        c.encoder = text(j, "encoder", origin, where, true);
        if (std::find(kEncoders.begin(), kEncoders.end(), c.encoder) == kEncoders.end()) {
            bad(origin, where + ".encoder",
                "'" + c.encoder + "' is not one of aac, libvorbis, libopus, libmp3lame");
        }
        const auto kbps = optionalNumber(j, "bitrate_kbps", origin, where);
        if (!kbps || *kbps < 16.0 || *kbps > 512.0 || *kbps != std::floor(*kbps)) {
            bad(origin, where + ".bitrate_kbps", "a whole number of kbps from 16 to 512 is required");
        }
        c.bitrateKbps = static_cast<int>(*kbps);
        c.source = text(j, "source", origin, where, true);
        c.date = text(j, "date", origin, where, false);
        out.push_back(std::move(c));
    }
    return out;
}

const std::vector<PlatformCodec>& builtinPlatformCodecs() {
    static const std::vector<PlatformCodec> table =
        parsePlatformCodecs(detail::builtinPlatformsJson(), "assets/platforms.json");
    return table;
}

const std::vector<Platform>& builtinPlatforms() {
    static const std::vector<Platform> table =
        parsePlatforms(detail::builtinPlatformsJson(), "assets/platforms.json");
    return table;
}

std::vector<PlatformPreview> previewPlatforms(const LoudnessResult& m,
                                              const std::vector<Platform>& platforms) {
    std::vector<PlatformPreview> out;
    for (const Platform& p : platforms) {
        PlatformPreview v;
        v.id = p.id;
        v.name = p.name;
        const std::optional<double> tp = m.truePeakDbtp ? std::optional(m.truePeakDbtp->value) : std::nullopt;
        if (p.normalization == Normalization::None) {
            v.gainDb = 0.0;
            v.loudnessLufs = m.integratedLufs;
            v.truePeakDbtp = tp;
            v.note = "no normalisation: plays as delivered";
        } else if (!m.integratedLufs) {
            v.note = "no integrated loudness (" + m.integratedNote + "): the platform's gain is undefined";
        } else {
            const double loudness = *m.integratedLufs;
            const double target = *p.targetLufs;
            double gain = target - loudness;
            switch (p.normalization) {
            case Normalization::UpAndDown:
                if (gain > 0.0 && p.upGainLimitDbtp && tp) {
                    const double allowed = std::max(0.0, *p.upGainLimitDbtp - *tp);
                    if (allowed < gain) {
                        v.note = "raised by only " + formatFixed(allowed, 1) + " of the " +
                                 formatFixed(gain, 1) + " dB needed: up-gain stops at " +
                                 formatFixed(*p.upGainLimitDbtp, 1) + " dBTP; plays " +
                                 formatFixed(gain - allowed, 1) + " LU below the target";
                        gain = allowed;
                    }
                }
                break;
            case Normalization::DownOnly:
                if (gain > 0.0) {
                    v.note = "quieter than the target by " + formatFixed(gain, 1) +
                             " LU: played as it is (this platform does not raise quiet tracks)";
                    gain = 0.0;
                }
                break;
            default:
                break;
            }
            v.gainDb = gain;
            v.loudnessLufs = loudness + gain;
            if (tp) {
                double peak = *tp + gain;
                if (p.limiter && peak > p.truePeakMaxDbtp) {
                    v.note = "the platform's limiter would take " + formatFixed(peak - p.truePeakMaxDbtp, 1) +
                             " dB off the peaks";
                    peak = p.truePeakMaxDbtp;
                }
                v.truePeakDbtp = peak;
            }
            if (p.normalization == Normalization::Delivery) {
                const bool loudOk = std::fabs(loudness - target) <= p.toleranceLu + 1e-9;
                const bool peakOk = !tp || *tp <= p.truePeakMaxDbtp + 1e-9;
                v.compliant = loudOk && peakOk;
                v.note = loudOk ? (peakOk ? "meets the specification as delivered"
                                          : "loudness within tolerance, but the true peak exceeds " +
                                                formatFixed(p.truePeakMaxDbtp, 1) + " dBTP")
                                : "needs " + formatFixed(gain, 1) + " dB to reach " + formatFixed(target, 1) +
                                      " LUFS (tolerance ±" + formatFixed(p.toleranceLu, 1) + " LU)";
            } else if (v.note.empty()) {
                v.note = gain < 0.0 ? "turned down by " + formatFixed(-gain, 1) + " dB"
                                    : (gain > 0.0 ? "raised by " + formatFixed(gain, 1) + " dB"
                                                  : "played at its level");
            }
        }
        if (v.truePeakDbtp) {
            v.truePeakOk = *v.truePeakDbtp <= p.truePeakMaxDbtp + 1e-9;
        }
        out.push_back(std::move(v));
    }
    return out;
}

} // namespace lathe
