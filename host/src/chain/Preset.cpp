// SPDX-License-Identifier: GPL-3.0-or-later
#include "../core/JsonFields.h"

#include <lathe/Error.h>
#include <lathe/Preset.h>
#include <lathe/Text.h>
#include <lathe/design/Rooms.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace lathe {
namespace detail {
const std::vector<std::pair<const char*, const char*>>& bundledPresetTexts(); // PresetsData.cpp (generated)
} // namespace detail

namespace {

using detail::joined;

/// A preset's fields: errors start with "preset 'name': " and where in the preset they are.
class Fields : public detail::JsonFields {
public:
    Fields(const nlohmann::json& obj, const std::string& where, const std::string& preset)
        : JsonFields(obj, "preset '" + preset + "': " + (where.empty() ? "" : where + " ")) {}
};

const std::vector<std::string> kBandTypes = {"bell", "lowshelf", "highshelf", "lowpass", "highpass", "tilt"};
const std::vector<std::string> kPlacements = {"stereo", "mid", "side"};

design::EqSpec parseEq(Fields& f, const std::string& where, const std::string& preset) {
    using design::EqBandType;
    design::EqSpec spec;
    if (const nlohmann::json* bands = f.raw("bands")) {
        if (!bands->is_array()) {
            f.fail("bands", "must be an array of band objects");
        }
        for (std::size_t i = 0; i < bands->size(); ++i) {
            Fields b((*bands)[i], where + " band " + std::to_string(i + 1), preset);
            design::EqBand band;
            const std::string type = b.choice("type", "", kBandTypes);
            band.type = static_cast<EqBandType>(std::find(kBandTypes.begin(), kBandTypes.end(), type) -
                                                kBandTypes.begin());
            if (b.raw("hz") == nullptr) {
                b.fail("hz", "is required");
            }
            band.hz = b.number("hz", 1000.0, 10.0, 96000.0);
            const bool pass = band.type == EqBandType::LowPass || band.type == EqBandType::HighPass;
            if (pass) {
                const double slope = b.number("slope_db_per_oct", 12.0, 6.0, 48.0);
                const int s = static_cast<int>(slope);
                if (s != slope || (s != 6 && s != 12 && s != 18 && s != 24 && s != 36 && s != 48)) {
                    b.fail("slope_db_per_oct",
                           Fields::formatNumber(slope) + " is not one of 6, 12, 18, 24, 36, 48");
                }
                band.slopeDbPerOctave = s;
            } else {
                band.gainDb = b.number("gain_db", 0.0, -24.0, 24.0);
                if (band.type != EqBandType::Tilt) {
                    band.q =
                        b.number("q", band.type == EqBandType::Bell ? 1.0 : 0.7071067811865476, 0.1, 40.0);
                }
            }
            const std::string placement = b.choice("placement", "stereo", kPlacements);
            band.placement = static_cast<design::EqPlacement>(
                std::find(kPlacements.begin(), kPlacements.end(), placement) - kPlacements.begin());
            band.enabled = b.boolean("enabled", true);
            b.finish();
            spec.bands.push_back(band);
        }
    }
    if (const nlohmann::json* curve = f.raw("curve")) {
        if (!curve->is_array()) {
            f.fail("curve", "must be an array of [hz, gain_db] pairs");
        }
        for (std::size_t i = 0; i < curve->size(); ++i) {
            const auto& p = (*curve)[i];
            if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
                f.fail("curve", "point " + std::to_string(i + 1) + " must be [hz, gain_db], not " + p.dump());
            }
            const double hz = p[0].get<double>();
            const double db = p[1].get<double>();
            if (!(hz >= 10.0 && hz <= 96000.0) || !(db >= -24.0 && db <= 24.0)) {
                f.fail("curve", "point " + std::to_string(i + 1) + " " + p.dump() +
                                    " is outside [10, 96000] Hz × [-24, 24] dB");
            }
            if (!spec.curve.empty() && hz <= spec.curve.back().hz) {
                f.fail("curve", "frequencies must increase (point " + std::to_string(i + 1) + ")");
            }
            spec.curve.push_back({hz, db});
        }
    }
    const double taps = f.number("taps", 0.0, 0.0, design::kEqMaxTaps);
    const int t = static_cast<int>(taps);
    if (t != taps || (t != 0 && t % 2 == 0)) {
        f.fail("taps", Fields::formatNumber(taps) +
                           " must be 0 (automatic) or odd (a symmetric FIR with a whole-sample delay)");
    }
    spec.taps = t;
    return spec;
}

ReverbSpec parseReverb(Fields& f, const std::filesystem::path& baseDir, const std::string& where) {
    ReverbSpec spec;
    const auto ir = f.text("ir");
    const auto room = f.text("room");
    if (ir && room) {
        f.fail("ir", "give either 'ir' (a file) or 'room' (a built-in room), not both");
    }
    if (ir) {
        std::filesystem::path p(*ir);
        if (p.is_relative()) {
            p = baseDir / p;
        }
        std::error_code ec;
        if (!std::filesystem::is_regular_file(p, ec)) {
            throw InputError(p, "impulse response not found (" + where + " 'ir')");
        }
        spec.irFile = p;
    } else {
        std::vector<std::string> names;
        for (const auto& r : design::builtinRooms()) {
            names.push_back(r.name);
        }
        spec.room = room.value_or("glue-room");
        if (std::find(names.begin(), names.end(), spec.room) == names.end()) {
            f.fail("room", "'" + spec.room + "' is not one of " + joined(names));
        }
    }
    spec.wetDb = f.number("wet_db", spec.wetDb, kReverbMutedDb, 12.0);
    spec.dryDb = f.number("dry_db", spec.dryDb, kReverbMutedDb, 12.0);
    spec.predelayMs = f.number("predelay_ms", 0.0, 0.0, 500.0);
    spec.normalization = f.choice("normalize", "energy", {"energy", "none"}) == "energy"
                             ? IrNormalization::Energy
                             : IrNormalization::None;
    return spec;
}

const std::vector<std::string> kDynamicsModes = {"compressor", "expander", "upward"};

MultibandSpec parseMultiband(Fields& f, const std::string& where, const std::string& preset) {
    MultibandSpec spec;
    if (const nlohmann::json* splits = f.raw("splits_hz")) {
        if (!splits->is_array() || splits->empty() || splits->size() > 5) {
            f.fail("splits_hz", "must be an array of 1 to 5 increasing frequencies (2 to 6 bands)");
        }
        spec.splitsHz.clear();
        for (const auto& v : *splits) {
            if (!v.is_number() || !(v.get<double>() > 10.0 && v.get<double>() < 96000.0) ||
                (!spec.splitsHz.empty() && v.get<double>() <= spec.splitsHz.back())) {
                f.fail("splits_hz",
                       v.dump() + " is not a frequency above the one before it, in (10, 96000) Hz");
            }
            spec.splitsHz.push_back(v.get<double>());
        }
    }
    const double slope = f.number("slope_db_per_oct", 24.0, 12.0, 48.0);
    if (slope != 12.0 && slope != 24.0 && slope != 36.0 && slope != 48.0) {
        f.fail("slope_db_per_oct", Fields::formatNumber(slope) + " is not one of 12, 24, 36, 48");
    }
    spec.slopeDbPerOctave = static_cast<int>(slope);
    spec.stereoLinkPercent = f.number("stereo_link_percent", 100.0, 0.0, 100.0);
    spec.midSide = f.boolean("mid_side", false);
    spec.detector =
        f.choice("detector", "peak", {"peak", "rms"}) == "peak" ? DetectorKind::Peak : DetectorKind::Rms;
    const double taps = f.number("taps", 0.0, 0.0, design::kEqMaxTaps);
    if (taps != static_cast<int>(taps) || (taps != 0.0 && static_cast<int>(taps) % 2 == 0)) {
        f.fail("taps", Fields::formatNumber(taps) + " must be 0 (automatic) or odd");
    }
    spec.taps = static_cast<int>(taps);
    const nlohmann::json* bands = f.raw("bands");
    const std::size_t want = spec.splitsHz.size() + 1;
    if (bands == nullptr || !bands->is_array() || bands->size() != want) {
        f.fail("bands", "needs one object per band: " + std::to_string(want) + " for " +
                            std::to_string(spec.splitsHz.size()) + " split frequencies");
    }
    spec.bands.clear();
    for (std::size_t i = 0; i < bands->size(); ++i) {
        Fields b((*bands)[i], where + " band " + std::to_string(i + 1), preset);
        BandDynamics d;
        const std::string mode = b.choice("mode", "compressor", kDynamicsModes);
        d.mode = static_cast<DynamicsMode>(std::find(kDynamicsModes.begin(), kDynamicsModes.end(), mode) -
                                           kDynamicsModes.begin());
        d.thresholdDb = b.number("threshold_db", d.thresholdDb, -80.0, 0.0);
        d.ratio = b.number("ratio", d.ratio, 1.0, 20.0);
        d.kneeDb = b.number("knee_db", d.kneeDb, 0.0, 24.0);
        d.attackMs = b.number("attack_ms", d.attackMs, 0.0, 500.0);
        d.releaseMs = b.number("release_ms", d.releaseMs, 1.0, 5000.0);
        d.makeupDb = b.number("makeup_db", d.makeupDb, -24.0, 24.0);
        d.rangeDb = b.number("range_db", d.rangeDb, 0.0, 60.0);
        d.bypass = b.boolean("bypass", false);
        d.solo = b.boolean("solo", false);
        b.finish();
        spec.bands.push_back(d);
    }
    return spec;
}

nlohmann::json toJson(const MultibandSpec& s) {
    nlohmann::json j;
    j["splits_hz"] = s.splitsHz;
    j["slope_db_per_oct"] = s.slopeDbPerOctave;
    j["stereo_link_percent"] = s.stereoLinkPercent;
    j["mid_side"] = s.midSide;
    j["detector"] = s.detector == DetectorKind::Peak ? "peak" : "rms";
    j["taps"] = s.taps;
    j["bands"] = nlohmann::json::array();
    for (const BandDynamics& d : s.bands) {
        j["bands"].push_back({{"mode", kDynamicsModes[static_cast<std::size_t>(d.mode)]},
                              {"threshold_db", d.thresholdDb},
                              {"ratio", d.ratio},
                              {"knee_db", d.kneeDb},
                              {"attack_ms", d.attackMs},
                              {"release_ms", d.releaseMs},
                              {"makeup_db", d.makeupDb},
                              {"range_db", d.rangeDb},
                              {"bypass", d.bypass},
                              {"solo", d.solo}});
    }
    return j;
}

LimiterSpec parseLimiter(Fields& f) {
    LimiterSpec spec;
    spec.ceilingDbtp = f.number("ceiling_dbtp", spec.ceilingDbtp, -20.0, 0.0);
    spec.lookaheadMs = f.number("lookahead_ms", spec.lookaheadMs, 0.1, 20.0);
    spec.releaseMs = f.number("release_ms", spec.releaseMs, 1.0, 2000.0);
    spec.inputGainDb = f.number("input_gain_db", spec.inputGainDb, -24.0, 24.0);
    return spec;
}

nlohmann::json toJson(const LimiterSpec& s) {
    return {{"ceiling_dbtp", s.ceilingDbtp},
            {"lookahead_ms", s.lookaheadMs},
            {"release_ms", s.releaseMs},
            {"input_gain_db", s.inputGainDb}};
}

nlohmann::json toJson(const design::EqSpec& s) {
    nlohmann::json j;
    j["bands"] = nlohmann::json::array();
    for (const auto& b : s.bands) {
        nlohmann::json jb = {{"type", design::bandTypeName(b.type)}, {"hz", b.hz}};
        if (b.type == design::EqBandType::LowPass || b.type == design::EqBandType::HighPass) {
            jb["slope_db_per_oct"] = b.slopeDbPerOctave;
        } else {
            jb["gain_db"] = b.gainDb;
            if (b.type != design::EqBandType::Tilt) {
                jb["q"] = b.q;
            }
        }
        jb["placement"] = design::placementName(b.placement);
        jb["enabled"] = b.enabled;
        j["bands"].push_back(jb);
    }
    j["curve"] = nlohmann::json::array();
    for (const auto& p : s.curve) {
        j["curve"].push_back({p.hz, p.gainDb});
    }
    j["taps"] = s.taps;
    return j;
}

nlohmann::json toJson(const ReverbSpec& s) {
    nlohmann::json j;
    if (s.irFile) {
        j["ir"] = s.irFile->string();
    } else {
        j["room"] = s.room;
    }
    j["wet_db"] = s.wetDb;
    j["dry_db"] = s.dryDb;
    j["predelay_ms"] = s.predelayMs;
    j["normalize"] = s.normalization == IrNormalization::Energy ? "energy" : "none";
    return j;
}

} // namespace

std::vector<PresetInfo> bundledPresets() {
    std::vector<PresetInfo> out;
    for (const auto& [name, text] : detail::bundledPresetTexts()) {
        const Preset p = parsePreset({nlohmann::json::parse(text), "bundled", "."});
        out.push_back({name, p.description});
    }
    return out;
}

PresetDocument loadPresetDocument(const std::string& nameOrFile) {
    for (const auto& [name, text] : detail::bundledPresetTexts()) {
        if (nameOrFile == name) {
            return {nlohmann::json::parse(text), "bundled", "."};
        }
    }
    const std::filesystem::path path(nameOrFile);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        std::vector<std::string> names;
        for (const auto& [name, text] : detail::bundledPresetTexts()) {
            names.emplace_back(name);
        }
        throw UsageError("no preset '" + nameOrFile + "': neither a bundled preset (" + joined(names) +
                         ") nor a file");
    }
    std::ifstream in(path);
    if (!in) {
        throw InputError(path, "cannot open the preset");
    }
    std::stringstream text;
    text << in.rdbuf();
    PresetDocument doc;
    try {
        doc.json = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::parse_error& e) {
        throw UsageError("preset " + path.string() + " is not valid JSON: " + e.what());
    }
    doc.source = path.string();
    doc.baseDir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    if (!doc.json.contains("name")) {
        doc.json["name"] = path.stem().string();
    }
    return doc;
}

namespace {

/// The ids of a document's stages, as parsePreset assigns them.
std::vector<std::string> stageIds(const nlohmann::json& doc) {
    std::vector<std::string> ids;
    if (!doc.contains("stages") || !doc["stages"].is_array()) {
        return ids;
    }
    std::map<std::string, int> seen;
    for (const auto& st : doc["stages"]) {
        std::string id;
        if (st.is_object() && st.contains("id") && st["id"].is_string()) {
            id = st["id"].get<std::string>();
        } else {
            const std::string type = st.is_object() && st.contains("type") && st["type"].is_string()
                                         ? st["type"].get<std::string>()
                                         : std::string("stage");
            const int n = ++seen[type];
            id = n == 1 ? type : type + std::to_string(n);
        }
        ids.push_back(id);
    }
    return ids;
}

} // namespace

void applyOverride(PresetDocument& doc, const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw UsageError("--set '" + assignment +
                         "': expected stage.parameter=value (e.g. eq.band2.gain_db=-1)");
    }
    const std::string path = assignment.substr(0, eq);
    const std::string valueText = assignment.substr(eq + 1);
    std::vector<std::string> parts;
    std::stringstream ss(path);
    for (std::string part; std::getline(ss, part, '.');) {
        parts.push_back(part);
    }
    if (parts.size() < 2 ||
        std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); })) {
        throw UsageError("--set '" + assignment +
                         "': expected stage.parameter=value (e.g. reverb.wet_db=-20)");
    }
    const std::vector<std::string> ids = stageIds(doc.json);
    const auto it = std::find(ids.begin(), ids.end(), parts[0]);
    if (it == ids.end()) {
        throw UsageError(
            "--set '" + assignment + "': the chain has no stage '" + parts[0] + "'" +
            (ids.empty() ? std::string(" (it has no stages)") : " (stages: " + joined(ids) + ")"));
    }
    nlohmann::json* target = &doc.json["stages"][static_cast<std::size_t>(it - ids.begin())];
    for (std::size_t i = 1; i + 1 < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p.rfind("band", 0) == 0 && p.size() > 4 &&
            std::all_of(p.begin() + 4, p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            const std::size_t n = std::stoul(p.substr(4));
            nlohmann::json& bands = (*target)["bands"];
            if (!bands.is_array() || n < 1 || n > bands.size()) {
                throw UsageError("--set '" + assignment + "': stage '" + parts[0] + "' has " +
                                 std::to_string(bands.is_array() ? bands.size() : 0) + " bands");
            }
            target = &bands[n - 1];
        } else {
            throw UsageError("--set '" + assignment + "': '" + p + "' is not bandN");
        }
    }
    nlohmann::json value;
    try {
        value = nlohmann::json::parse(valueText);
    } catch (const nlohmann::json::parse_error&) {
        value = valueText;
    }
    const std::string& key = parts.back();
    if (key == "ir" && value.is_string()) {
        value = std::filesystem::absolute(value.get<std::string>()).string();
        target->erase("room");
    } else if (key == "room") {
        target->erase("ir");
    }
    (*target)[key] = value;
}

Preset parsePreset(const PresetDocument& doc) {
    Preset preset;
    preset.source = doc.source;
    const std::string name = doc.json.is_object() && doc.json.contains("name") && doc.json["name"].is_string()
                                 ? doc.json["name"].get<std::string>()
                                 : doc.source;
    Fields top(doc.json, "", name);
    const auto schema = top.text("schema");
    if (!schema) {
        top.fail("schema", std::string("is required (\"") + kPresetSchema + "\")");
    }
    if (*schema != kPresetSchema) {
        top.fail("schema", "'" + *schema + "' is not supported (this Lathe reads \"" + kPresetSchema + "\")");
    }
    preset.name = top.text("name").value_or(name);
    preset.description = top.text("description").value_or("");
    // Informational: where a resolved preset (`presets --show`, a report's "preset") came from.
    // Read back as a preset, it comes from where it is now loaded, so the value is not kept.
    top.text("source");
    if (top.raw("target_lufs") != nullptr) {
        preset.targetLufs = top.number("target_lufs", -14.0, -40.0, -5.0);
    }
    const nlohmann::json* stages = top.raw("stages");
    if (stages == nullptr || !stages->is_array()) {
        top.fail("stages", "is required: an array of stage objects (empty for no processing)");
    }
    top.finish();
    const std::vector<std::string> ids = stageIds(doc.json);
    std::set<std::string> unique;
    for (std::size_t i = 0; i < stages->size(); ++i) {
        const nlohmann::json& st = (*stages)[i];
        std::string where = "stages[" + std::to_string(i) + "]";
        Fields f(st, where, preset.name);
        PresetStage stage;
        stage.type = f.choice("type", "", {"eq", "reverb", "multiband", "limiter"});
        where += " (" + stage.type + ")";
        Fields g(st, where, preset.name);
        g.raw("type");
        stage.id = g.text("id").value_or(ids[i]);
        if (!unique.insert(stage.id).second) {
            g.fail("id", "'" + stage.id + "' is used twice");
        }
        stage.bypass = g.boolean("bypass", false);
        if (stage.type == "eq") {
            stage.spec = parseEq(g, where, preset.name);
        } else if (stage.type == "reverb") {
            stage.spec = parseReverb(g, doc.baseDir, where);
        } else if (stage.type == "multiband") {
            stage.spec = parseMultiband(g, where, preset.name);
        } else {
            stage.spec = parseLimiter(g);
        }
        g.finish();
        preset.stages.push_back(std::move(stage));
    }
    return preset;
}

nlohmann::json toJson(const Preset& p) {
    nlohmann::json j;
    j["schema"] = kPresetSchema;
    j["name"] = p.name;
    j["description"] = p.description;
    if (p.targetLufs) {
        j["target_lufs"] = *p.targetLufs;
    }
    j["source"] = p.source;
    j["stages"] = nlohmann::json::array();
    for (const PresetStage& s : p.stages) {
        nlohmann::json js = std::visit([](const auto& spec) { return toJson(spec); }, s.spec);
        js["type"] = s.type;
        js["id"] = s.id;
        js["bypass"] = s.bypass;
        j["stages"].push_back(js);
    }
    return j;
}

std::vector<std::unique_ptr<Stage>> buildStages(const Preset& preset, Backend& backend, unsigned threads,
                                                design::DesignCache* designs) {
    std::vector<std::unique_ptr<Stage>> stages;
    ConvolverOptions options;
    options.threads = threads;
    for (const PresetStage& s : preset.stages) {
        if (s.bypass) {
            continue;
        }
        if (const auto* eq = std::get_if<design::EqSpec>(&s.spec)) {
            stages.push_back(std::make_unique<EqStage>(*eq, backend, options, designs));
        } else if (const auto* reverb = std::get_if<ReverbSpec>(&s.spec)) {
            stages.push_back(std::make_unique<ReverbStage>(*reverb, backend, options));
        } else if (const auto* multiband = std::get_if<MultibandSpec>(&s.spec)) {
            stages.push_back(std::make_unique<MultibandStage>(*multiband, backend, options, designs));
        } else {
            stages.push_back(std::make_unique<LimiterStage>(std::get<LimiterSpec>(s.spec), threads));
        }
    }
    return stages;
}

} // namespace lathe
