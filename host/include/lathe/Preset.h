// Lathe: mastering chains described in JSON (presets), their validation and the stages they build.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Format (schema "lathe.preset/1"; assets/presets/*.json are the bundled ones, README documents it):
//   { "schema": "lathe.preset/1", "name": "…", "description": "one line", "target_lufs": -14,
//     "stages": [ { "type": "eq", "id": "eq", "bypass": false,
//                   "bands": [ { "type": "bell", "hz": 250, "gain_db": -1, "q": 0.9,
//                                "placement": "stereo" }, … ],
//                   "curve": [ [hz, gain_db], … ], "taps": 0 },
//                 { "type": "reverb", "room": "glue-room" | "ir": "file.wav",
//                   "wet_db": -24, "dry_db": 0, "predelay_ms": 8, "normalize": "energy" },
//                 { "type": "multiband", "splits_hz": [120, 1000, 6000], "slope_db_per_oct": 24,
//                   "stereo_link_percent": 100, "detector": "peak", "taps": 0,
//                   "bands": [ { "mode": "compressor", "threshold_db": -24, "ratio": 1.5,
//                                "knee_db": 6, "attack_ms": 20, "release_ms": 200,
//                                "makeup_db": 0, "range_db": 12, "bypass": false,
//                                "solo": false }, … one per band ] },
//                 { "type": "limiter", "ceiling_dbtp": -1, "lookahead_ms": 2, "release_ms": 100,
//                   "input_gain_db": 0 } ] }
// Unknown keys, out-of-range values, unknown stage types and missing IR files are errors that name
// the preset and the field ("preset 'x': stages[1] (reverb) 'wet_db': 30 is outside [-120, 12]").
#pragma once

#include <lathe/Backend.h>
#include <lathe/ConvolutionStage.h>
#include <lathe/LimiterStage.h>
#include <lathe/MultibandStage.h>
#include <lathe/Stage.h>
#include <lathe/design/DesignCache.h>
#include <lathe/design/EqDesign.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace lathe {

inline constexpr const char* kPresetSchema = "lathe.preset/1";

struct PresetStage {
    std::string id;   ///< unique in the chain; --set addresses it ("eq", "reverb", "eq2", …)
    std::string type; ///< "eq", "reverb", "multiband" or "limiter"
    bool bypass = false;
    std::variant<design::EqSpec, ReverbSpec, MultibandSpec, LimiterSpec> spec;
};

struct Preset {
    std::string name;
    std::string description;
    std::optional<double> targetLufs; ///< "target_lufs": the master's loudness unless --target says otherwise
    std::string source;               ///< "bundled" or the file it came from
    std::vector<PresetStage> stages;
};

struct PresetInfo {
    std::string name;
    std::string description;
};

/// The presets compiled into Lathe (from assets/presets), sorted by name.
std::vector<PresetInfo> bundledPresets();

/// A preset document before validation, with what relative paths in it are relative to.
struct PresetDocument {
    nlohmann::json json;
    std::string source;            ///< "bundled" or the file path
    std::filesystem::path baseDir; ///< for relative "ir" paths (the file's directory; "." for bundled)
};

/// A bundled preset by name, else a JSON file by path. Throws UsageError naming the bundled presets
/// when it is neither, InputError for an unreadable file, UsageError for malformed JSON.
PresetDocument loadPresetDocument(const std::string& nameOrFile);

/// Applies "stage.key=value" (or "stage.bandN.key=value" for EQ bands, 1-based) to the document.
/// The value is JSON when it parses as JSON (numbers, true/false), else a string. A relative "ir"
/// path given here is relative to the current directory. Throws UsageError naming what is wrong.
void applyOverride(PresetDocument& doc, const std::string& assignment);

/// Validates the document. Throws UsageError (InputError for a missing IR file).
Preset parsePreset(const PresetDocument& doc);

/// The chain with every parameter resolved (defaults filled in): what the report records.
nlohmann::json toJson(const Preset& preset);

/// The stages of the preset (bypassed ones left out), sharing `backend` for their convolutions;
/// their EQ and crossover designs from `designs` when given (renders that share them: a batch).
std::vector<std::unique_ptr<Stage>> buildStages(const Preset& preset, Backend& backend, unsigned threads,
                                                design::DesignCache* designs = nullptr);

} // namespace lathe
