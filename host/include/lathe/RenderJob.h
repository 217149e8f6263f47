// Lathe: a render streams a source through a chain of stages into an output file.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioFormat.h>
#include <lathe/AudioReader.h>
#include <lathe/AudioSource.h>
#include <lathe/AudioWriter.h>
#include <lathe/Backend.h>
#include <lathe/Progress.h>
#include <lathe/Stage.h>
#include <lathe/math/SampleStats.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

/// When integer output is dithered.
enum class DitherMode {
    Auto,   ///< TPDF when the samples are not already on the output's integer grid: the source is
            ///< float/lossy or has more bits, or a stage changed the values. (SoX's rule.) Never for
            ///< float output. A 24-bit file copied to 24 bits stays bit-exact.
    Tpdf,   ///< always TPDF (±1 LSB triangular) for integer output
    Off,    ///< plain rounding (with clipping)
    Shaped, ///< TPDF with F-weighted noise shaping (math::quantizeShaped) for integer output:
            ///< the noise moves above 10 kHz, −12 dB at low frequencies (for 16-bit delivery)
};

/// What to do with NaN/±Inf input samples (one NaN poisons every IIR state and FFT block after it).
enum class NonFinitePolicy {
    Error,    ///< stop with AudioContentError naming the first channel and frame (default)
    Sanitize, ///< replace them by 0 and report how many
};

/// What happens to the frames a stage emits after the input has ended (a reverb's decay).
enum class TailPolicy {
    Keep, ///< append the tail (the output is longer than the input)
    Cut,  ///< the output has exactly the input's length (after rate conversion)
};

/// Seed of the dither noise when the caller does not choose one (reproducible renders).
inline constexpr std::uint64_t kDefaultDitherSeed = 0x4c61746865ull; // "Lathe"

class OutputTap;

struct RenderOptions {
    Container container = Container::Wav;
    SampleFormat format = SampleFormat::Pcm24;
    DitherMode dither = DitherMode::Auto;
    std::uint64_t ditherSeed = kDefaultDitherSeed;
    NonFinitePolicy nonFinite = NonFinitePolicy::Error;
    TailPolicy tail = TailPolicy::Keep;
    Frames blockFrames = 65536; ///< frames per block (1.4 s at 48 kHz); memory is O(blockFrames)
    WriterFaults faults;        ///< test hooks only
    bool durable = true;        ///< OutputSpec::durable (false: a scratch file the caller removes)
    /// The job's thread budget; 0 = all hardware threads. With 1 every computation stays on the
    /// calling thread (only file reading and writing overlap beside it): a batch job's budget.
    unsigned threads = 0;
    /// Sees the output as it is written (not owned; none when null), e.g. to measure it while the
    /// render runs instead of reading the file again afterwards.
    OutputTap* tap = nullptr;
    /// false: no file is written (`output` only names the output in messages) and the output
    /// exists only as `tap`, which is then required, sees it — a targeted master's intermediate
    /// held in memory. No BeforeCommit then.
    bool writeFile = true;
};

/// The output of a render, block by block, as a reader of the finished file would get it: planar
/// float with integer output's codes scaled back exactly as libsndfile reads them. One call at a
/// time, in order: begin() and finish() from the render's thread, write() from the thread that
/// hands blocks to the writer (the render's own, or its sink's beside the stages, which has
/// finished before finish()); finish() before the render's BeforeCommit, never after an error.
class OutputTap {
public:
    virtual ~OutputTap() = default;
    /// The output's format and exact length, before the first block.
    virtual void begin(SampleRate rate, int channels, const ChannelLayout& layout, Frames length) = 0;
    /// The next frames of the output (its first block.frames()).
    virtual void write(const AudioBuffer& block) = 0;
    /// Every frame has been written.
    virtual void finish() = 0;
};

/// One stage of a render as it ran.
struct StageRecord {
    std::string name;
    Frames latencyFrames = 0; ///< in the stage's output frames
    Frames tailFrames = 0;
    double seconds = 0;     ///< time spent in process() and flush()
    nlohmann::json details; ///< Stage::report()
};

/// Everything a render did, for the CLI's JSON and the reports.
struct RenderReport {
    std::string source;
    std::filesystem::path output;
    Container container = Container::Wav; ///< as written (Wav or Rf64 for WAV output)
    SampleFormat format = SampleFormat::Pcm24;
    SampleRate inputRate = 0;
    SampleRate outputRate = 0;
    int channels = 0;
    ChannelLayout layout;
    Frames inputFrames = 0;
    Frames outputFrames = 0;
    Frames latencyFrames = 0; ///< total stage latency removed
    Frames tailFrames = 0;    ///< frames of stage tails (kept when tailKept)
    bool tailKept = true;
    bool dithered = false;
    std::string ditherReason;
    Frames clippedSamples = 0;                  ///< integer output samples clamped to full scale
    Frames sanitizedSamples = 0;                ///< NaN/Inf replaced by 0 (NonFinitePolicy::Sanitize)
    std::vector<math::SampleStats> inputStats;  ///< per channel, as read
    std::vector<math::SampleStats> outputStats; ///< per channel, before quantisation
    std::vector<StageRecord> stages;
    std::string backend;
    double seconds = 0; ///< wall time of the job (for a targeted master: renders, trial, measurements)
    /// Of which, on their own threads beside the processing: reading the input (decoding) and
    /// writing the output (encoding and the write calls); for a targeted master, its first render
    /// and the kept limiter pass together.
    double decodeSeconds = 0;
    double encodeSeconds = 0;
    /// The output's end of the line, on its own thread beside the stages or on the caller's (see
    /// render()): latency trim, output statistics, quantisation and the tap; of which the tap
    /// (its read-back and hand-over, waiting for its consumer included). Summed like the above.
    double outputSeconds = 0;
    double tapSeconds = 0;
    /// Wall time on the caller's thread before the first block is read (the stages' prepare: their
    /// filters designed, their devices' buffers and plans made; the output opened) and after the
    /// last (the stages flushed, the sink and the writer caught up), of the last render.
    double setupSeconds = 0;
    double drainSeconds = 0;
    /// Where the hand-overs waited, of the last render: the caller's thread for the reader's next
    /// block, the last stage's (the caller's, or its own) for a free place in the sink's queue;
    /// the sink for the writer's.
    double readWaitSeconds = 0;
    double sinkWaitSeconds = 0;
    double writeWaitSeconds = 0;
    std::vector<std::string> warnings;
};

/// Renders `source` through `stages` into `output`.
///
/// Order of work: checks that output and input differ (for file sources), opens the output's
/// temporary file (so a bad destination fails before any processing), then streams blocks:
/// read → non-finite check → stages → latency trim → stats → quantise/dither → write, with
/// progress after every block and a cancellation check before every block. Reading, the output's
/// end of that line (from the latency trim on, when stages compute and the budget is not one
/// thread), every stage after the first (when the budget is not one thread) and writing each run
/// on a thread of their own, a bounded number of blocks apart, so memory stays O(blockFrames);
/// each stage sees the same blocks in the same order whatever the threads, so the output is too. On success the output is committed atomically; on any exception
/// nothing is left at the destination that was not there before.
///
/// Throws InputError, AudioContentError (NaN/Inf, no audio), OutputError, CancelledError,
/// UsageError (a stage refused the format) or GpuError.
/// Called by render() with the complete output under its temporary name and the report so far
/// (the stages' details included), before the output replaces anything: the place to check
/// promises on the file itself. Throwing aborts the render; the temporary is removed and an
/// existing destination is untouched.
using BeforeCommit = std::function<void(const std::filesystem::path& temporary, const RenderReport& report)>;

RenderReport render(AudioSource& source, std::vector<std::unique_ptr<Stage>> stages,
                    const std::filesystem::path& output, const RenderOptions& options, Backend& backend,
                    const JobControl& control = {}, const BeforeCommit& beforeCommit = {});

/// `lathe convert`: format, depth and rate conversion of one file.
struct ConvertSettings {
    std::optional<SampleRate> sampleRate; ///< resample (libsoxr, very high quality) when set and different
    std::optional<SampleFormat> format;   ///< default: the input's depth (16/24 stay, float stays float,
                                          ///< lossy/other → 24)
    std::optional<Container> container;   ///< default: from the output extension
    DitherMode dither = DitherMode::Auto;
    std::uint64_t ditherSeed = kDefaultDitherSeed;
    NonFinitePolicy nonFinite = NonFinitePolicy::Error;
    AudioReader::Options reader;
    unsigned threads = 0; ///< worker threads for the resampler; 0 = all hardware threads
    WriterFaults faults;
};

/// The output format a conversion will use (resolves the defaults above). Throws UsageError for
/// impossible combinations (FLAC with float samples, an unknown extension without --format).
RenderOptions resolveConvertOptions(const AudioFileInfo& input, const std::filesystem::path& output,
                                    const ConvertSettings& settings);

/// Opens `input`, converts it into `output`. See render() for guarantees.
RenderReport convertFile(const std::filesystem::path& input, const std::filesystem::path& output,
                         const ConvertSettings& settings, Backend& backend, const JobControl& control = {});

} // namespace lathe
