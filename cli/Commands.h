// Lathe CLI: the subcommands. Each parses nothing itself: main.cpp fills the options, the command
// calls the engine and prints; errors propagate as lathe::Error to main's exit-code mapping.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Backend.h>
#include <lathe/Progress.h>
#include <lathe/RenderJob.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lathe::cli {

/// Options every command shares.
struct GlobalOptions {
    bool quiet = false;
    std::string backend = "auto";
    const CancelToken* cancel = nullptr;
    const BackendRegistry* registry = nullptr;
};

struct InfoOptions {
    std::vector<std::filesystem::path> files;
    bool json = false;
    bool devices = false;
    bool strict = false;
    std::string layout;
};

/// The output and input-handling options every rendering command takes (convert, master).
struct RenderFlags {
    std::optional<int> rate;
    std::string bits;
    std::string format;
    std::string dither = "auto";
    std::optional<std::uint64_t> seed;
    bool sanitize = false;
    bool strict = false;
    std::string layout;
};

struct ConvertOptions {
    std::filesystem::path input;
    std::filesystem::path output;
    RenderFlags flags;
    bool json = false;
};

struct AnalyzeOptions {
    std::vector<std::filesystem::path> files;
    bool json = false;
    bool platforms = false;
    std::filesystem::path platformsFile;
    bool history = false;
    bool dualMono = false;
    bool strict = false;
    std::string layout;
    std::filesystem::path html;
    std::filesystem::path compare;
    int smoothing = 6;
    std::string target = "-14";
    bool loudnessOnly = false;
    bool codecs = false;  ///< real codec round trips: post-codec columns in the platform table
    std::string speakers; ///< speaker models ("all" or a list): the translation section; empty: none
};

struct DemoMixOptions {
    std::filesystem::path output;
    double durationSeconds = 60.0;
    int rate = 48000;
    std::uint64_t seed = 1;
    std::string bits = "24";
    bool json = false;
};

struct MasterOptions {
    std::filesystem::path input;
    std::filesystem::path output;
    std::string preset = "default";
    std::vector<std::string> set;
    std::string tail = "keep";
    std::string target;                ///< platform id or loudness ("-14", "-14LUFS"); empty = none
    std::filesystem::path match;       ///< or: the integrated loudness of this reference file
    std::optional<double> ceilingDbtp; ///< default: the platform's true-peak limit, else −1
    RenderFlags flags;
    bool json = false;
    std::filesystem::path report;
    std::filesystem::path html; ///< a before/after HTML report (mix vs master, gain reduction)
};

struct BatchOptions {
    std::vector<std::filesystem::path> inputs; ///< files, directories, list files
    std::filesystem::path outputDir;
    MasterOptions master; ///< preset, --set, target, render flags (input/output unused)
    bool analyzeOnly = false;
    bool album = false;
    unsigned jobs = 0;           ///< 0: every CPU this process may use
    std::string shard;           ///< "I/N"
    std::filesystem::path merge; ///< build the summary from the manifests in this directory
    bool json = false;
};

struct SpeakersOptions {
    std::string show; ///< print this model (id or file) in full
    bool json = false;
};

struct CompareOptions {
    std::vector<std::filesystem::path> files; ///< one file, or two (mix vs master, A vs B)
    std::string speakers = "all";
    bool json = false;
    std::filesystem::path html;
    std::filesystem::path render; ///< directory for the level-matched renders
    unsigned jobs = 0;
    bool strict = false;
    std::string layout;
};

struct PreviewCodecsOptions {
    std::filesystem::path file;
    std::string codecs; ///< ids separated by commas; empty: all
    bool json = false;
    std::filesystem::path render;
    unsigned jobs = 0;
    bool strict = false;
};

struct PresetsOptions {
    bool json = false;
    std::string show; ///< print this preset's resolved JSON
};

struct ExportFilterOptions {
    std::string source; ///< ir: a room name; fir: a preset (its first EQ stage)
    std::filesystem::path output;
    int rate = 48000;
    std::vector<std::string> set;
};

int runInfo(const GlobalOptions& g, const InfoOptions& o);
int runConvert(const GlobalOptions& g, const ConvertOptions& o);
int runDemoMix(const GlobalOptions& g, const DemoMixOptions& o);
int runAnalyze(const GlobalOptions& g, const AnalyzeOptions& o);
int runMaster(const GlobalOptions& g, const MasterOptions& o);
int runPresets(const GlobalOptions& g, const PresetsOptions& o);
int runSpeakers(const GlobalOptions& g, const SpeakersOptions& o);
int runCompare(const GlobalOptions& g, const CompareOptions& o);
int runPreviewCodecs(const GlobalOptions& g, const PreviewCodecsOptions& o);
int runBatch(const GlobalOptions& g, const BatchOptions& o);
int runExportIr(const GlobalOptions& g, const ExportFilterOptions& o);
int runExportFir(const GlobalOptions& g, const ExportFilterOptions& o);

} // namespace lathe::cli
