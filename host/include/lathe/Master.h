// Lathe: `lathe master` — one file through a preset's chain into a new file.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Analysis.h>
#include <lathe/AudioReader.h>
#include <lathe/Preset.h>
#include <lathe/RenderJob.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

namespace lathe {

/// Final loudness: integrated loudness and a true-peak ceiling the limiter holds.
struct LoudnessTarget {
    double lufs = -14.0;
    double ceilingDbtp = -1.0;
    std::string label; ///< "spotify", "-14 LUFS", … for the report
};

/// Within this of the target the master is done (issue 7: ±0.1 LU).
inline constexpr double kTargetToleranceLu = 0.1;
/// A targeted master whose limiter is last is an error, not a file, when its true peak reads more
/// than this above the ceiling: issue 7's tolerance against the ×16 reference (the limiter's own
/// verification holds the ceiling; this is float rounding of the reading).
inline constexpr double kCeilingCheckDb = 0.01;
/// At most this many limiter passes while converging on the target.
inline constexpr int kTargetMaxPasses = 5;
/// Raising a programme by more than this to reach the target earns a warning.
inline constexpr double kTargetLargeGainDb = 20.0;

struct MasterSettings {
    Preset preset;
    /// When set: the chain without its limiter is rendered once (held in memory, or in a temporary
    /// float file beside the output: intermediateMemoryBytes) and measured; the limiter's input gain is then
    /// set to reach the target, the limiter renders the output, the output is measured, and the gain is
    /// corrected until the integrated loudness is within kTargetToleranceLu (at most kTargetMaxPasses
    /// passes). The preset's limiter is used (its ceiling replaced by the target's); without one, a limiter
    /// with default settings ends the chain.
    std::optional<LoudnessTarget> target;
    std::optional<SampleFormat>
        format; ///< default: 32-bit float for float input (24-bit in FLAC), else 24-bit
    std::optional<Container> container;   ///< default: from the output extension
    std::optional<SampleRate> sampleRate; ///< output rate (libsoxr VHQ), converted first so that every
                                          ///< stage, the limiter's verification included, runs at it
    DitherMode dither = DitherMode::Auto;
    std::uint64_t ditherSeed = kDefaultDitherSeed;
    NonFinitePolicy nonFinite = NonFinitePolicy::Error;
    TailPolicy tail = TailPolicy::Keep;
    AudioReader::Options reader;
    unsigned threads = 0; ///< worker threads for convolution and resampling; 0 = all hardware threads
    WriterFaults faults;
    /// With a target and a budget of 4 threads or more: the most memory the intermediate (the chain
    /// before the limiter, float) may be held in; a longer programme, or a smaller budget, goes
    /// through a temporary float file beside the output. Unset: kIntermediateMemoryBytes, at most
    /// half the memory available when the master starts. 0: the file always. The programme's
    /// length decides (a reverb's tail, seconds, comes on top).
    std::optional<std::uint64_t> intermediateMemoryBytes;
    /// Filter designs shared with other masters of the same preset (lathe batch makes one for all
    /// its files); null: this master designs its own. The output is the same to the bit either way.
    std::shared_ptr<design::DesignCache> designs;
};

/// Default of MasterSettings::intermediateMemoryBytes: an hour of 48 kHz stereo (1.38 GB), or 80
/// minutes of 44.1 kHz stereo, is held in memory — it is then neither written to a file nor
/// decoded back for the trial and each pass; three hours (4.1 GB) go through the file, so that
/// memory stays bounded whatever the length.
inline constexpr std::uint64_t kIntermediateMemoryBytes = std::uint64_t{2} << 30;

/// The preset's own loudness target ("target_lufs") with its limiter's ceiling (−1 dBTP without
/// one), as `lathe master` and Lathe Studio apply it; nullopt when the preset sets none.
std::optional<LoudnessTarget> presetTarget(const Preset& preset);

/// The output format of a master (resolves the defaults above). Throws UsageError like
/// resolveConvertOptions.
RenderOptions resolveMasterOptions(const AudioFileInfo& input, const std::filesystem::path& output,
                                   const MasterSettings& settings);

/// Opens `input`, renders it through the preset's stages (designed for the input's rate and
/// channels) and an optional final rate conversion into `output`. Guarantees as render(): output
/// ≠ input, nothing half-written, latency removed exactly, tail by settings.tail.
/// What loudness targeting did (empty passes when there was no target).
struct TargetingReport {
    LoudnessTarget target;
    std::optional<double> preLimiterLufs;
    /// Where one render's time went (RenderReport's figures): reading, the stages, the output's
    /// end (of which the tap), writing — each on threads of its own, so they overlap: the largest
    /// bounds the render's streaming — and, on the caller's thread before and after the stream,
    /// its setup and drain.
    struct RenderTimes {
        double decode = 0;
        double stages = 0;
        double output = 0;
        double tap = 0;
        double encode = 0;
        double setup = 0;
        double drain = 0;
        double readWait = 0; ///< RenderReport::readWaitSeconds, and so on
        double sinkWait = 0;
        double writeWait = 0;
    };
    struct Pass {
        double inputGainDb = 0;
        std::optional<double> lufs;
        std::optional<double> truePeakDbtp;
        double seconds = 0;        ///< this pass's render and its measurement, wall time
        RenderTimes times;         ///< its render's
        double measureSeconds = 0; ///< of `seconds`, waiting for the output's loudness
    };
    std::vector<Pass> passes;
    /// The trial before the passes: the limiter alone at the drive that would reach the target
    /// without limiting, unverified and unwritten, measured; its loudness loss is added to the
    /// first pass's drive. (None when stages follow the limiter.)
    struct Trial {
        double inputGainDb = 0;
        double lufs = 0;
        /// Run on the device over the intermediate held there too (Capability::ResidentTrial:
        /// only the loudness records came back), not rendered on the host.
        bool onDevice = false;
    };
    std::optional<Trial> trial;
    /// Wall time of each step (where a master's time goes, in the report): the chain before the
    /// limiter rendered to the intermediate, that file's measurement, the trial (0 when none).
    double preLimiterRenderSeconds = 0;
    RenderTimes preLimiterTimes; ///< the render of the chain before the limiter
    double preLimiterMeasureSeconds = 0;
    double trialSeconds = 0;
    /// Where the intermediate was held: in memory (MasterSettings::intermediateMemoryBytes) or a
    /// temporary float file; its size either way.
    bool intermediateInMemory = false;
    std::uint64_t intermediateBytes = 0;
    bool reached = false;
    std::string note; ///< why not, or what to know
};

/// The mix and its master analysed as `lathe analyze` analyses a file (`lathe master --html`, the
/// before/after of issue 8's benchmark chain): the figures of analyzeFile(input) and of
/// analyzeFile(output) exactly. From a budget of kAnalysisTapMinThreads threads on they are taken
/// as the master reads its input and writes its output (AnalysisTap: neither file is read again,
/// and the analyses overlap the renders), else by reading both files after the master.
struct MasterAnalyses {
    AnalysisOptions options; ///< in: both analyses'
    bool withInput = true;   ///< in: false: the output's alone (`before` stays empty)
    AnalysisResult before;   ///< the input
    AnalysisResult after;    ///< the output, as delivered (the kept pass of a targeted master)
    bool tapped = false;     ///< taken from the master's own reading and writing
    double waitSeconds = 0;  ///< after the master's output was complete, waiting for (or running) them
};

/// The budget from which MasterAnalyses are taken from the master's streams: each analysis wants
/// about a core of its own beside the render (as the targeting's meters, kTapMinThreads).
inline constexpr unsigned kAnalysisTapMinThreads = 4;

/// `analyses`, when given, also gets the input's and the output's analyses (see MasterAnalyses);
/// an error of theirs is thrown after the output is complete (it is then in place).
RenderReport masterFile(const std::filesystem::path& input, const std::filesystem::path& output,
                        const MasterSettings& settings, Backend& backend, const JobControl& control = {},
                        TargetingReport* targeting = nullptr, MasterAnalyses* analyses = nullptr);

} // namespace lathe
