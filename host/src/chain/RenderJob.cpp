// SPDX-License-Identifier: GPL-3.0-or-later
#include "../core/Prefetcher.h"
#include "../core/ThreadPool.h"
#include "../core/WorkBehind.h"
#include "../dsp/cpu/HostLoops.h"

#include <lathe/ChannelStats.h>
#include <lathe/Error.h>
#include <lathe/RenderJob.h>
#include <lathe/ResampleStage.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

namespace lathe {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// The dither decision, with the reason the report gives.
std::pair<bool, std::string> decideDither(const RenderOptions& o, int sourceBits, bool altered) {
    if (!isInteger(o.format)) {
        return {false, "float output is never dithered"};
    }
    const int outBits = sampleFormatBits(o.format);
    switch (o.dither) {
    case DitherMode::Off:
        return {false, "dither switched off"};
    case DitherMode::Tpdf:
        return {true, "TPDF dither requested"};
    case DitherMode::Shaped:
        return {true, "TPDF dither with F-weighted noise shaping requested"};
    case DitherMode::Auto:
        break;
    }
    if (altered) {
        return {true, "TPDF: processing changed the samples"};
    }
    if (sourceBits == 0) {
        return {true, "TPDF: the source is not on an integer grid (float or lossy)"};
    }
    if (sourceBits > outBits) {
        return {true,
                "TPDF: reducing " + std::to_string(sourceBits) + " to " + std::to_string(outBits) + " bits"};
    }
    return {false, "none needed: the " + std::to_string(sourceBits) + "-bit samples fit " +
                       std::to_string(outBits) + " bits exactly"};
}

/// One block of output on its way to the file: integer codes (left-justified) or float samples,
/// interleaved.
struct WriteBlock {
    std::vector<std::int32_t> ints;
    std::vector<float> floats;
    Frames frames = 0;
};

/// Writes blocks on a thread of its own, so that the kernel's copy of each block into the page cache
/// (the largest single cost of a fast render: ~1–3 ms per MB) overlaps the next block's processing.
using WriteBehind = detail::WorkBehind<WriteBlock>;
constexpr std::size_t kWriteDepth = 2;
/// Blocks waiting for the sink's thread (render()).
constexpr std::size_t kSinkDepth = 2;

WriteBehind::Work writeTo(AudioWriter& writer) {
    return [&writer](WriteBlock& b) {
        if (b.ints.empty()) {
            writer.writeFloat(b.floats.data(), b.frames);
        } else {
            writer.writeInt(b.ints.data(), b.frames);
        }
    };
}

/// Frames of a block the sink's threads take at a time. Fixed, so that the statistics (summed
/// slice by slice, in order) do not depend on the thread count; long enough that a slice's loop
/// dwarfs the pool's hand-out (1.6 µs a call of 8 indices on 16 threads of the H200 machine,
/// bench/pool_overhead; a slice of stereo is about 0.2 ms of work there: the output end took
/// 3.9-4.7 s an hour on one thread).
constexpr Frames kSinkSlice = 8192;
/// Threads the sink shares a block's slices out to, its own included (a 65536-frame block has
/// eight slices).
constexpr unsigned kSinkThreads = 8;

/// Streams blocks from the end of the stage chain into the writer: removes latency, stops at the
/// output length, gathers output statistics, quantises and writes.
///
/// Everything is computed on the host, whatever the backend: the block is here, and a device would
/// take a synchronous round trip per block for arithmetic done at memory speed here (the output's
/// codes cross the bus twice: 2.8 GB an hour of stereo). The statistics, the quantisation (the
/// shared math/Quantize.h, the CPU backend's loop) and the tap's read-back share each block's
/// slices out across `threads`; the codes are the same whoever computes them (each sample's
/// dither depends only on its channel and frame).
class Sink {
public:
    /// `writer`: null when no file is written (RenderOptions::writeFile): the blocks then go to the
    /// tap alone.
    Sink(WriteBehind* writer, const RenderOptions& options, const math::QuantizeParams& quant, Frames latency,
         Frames length, int channels, unsigned threads)
        : m_writer(writer), m_options(options), m_quant(quant), m_skip(latency), m_length(length),
          m_channels(channels), m_stats(static_cast<std::size_t>(channels), math::emptyStats()),
          m_pool(threads) {}

    /// With no stages the output samples are the input samples: the caller's input statistics are
    /// the output statistics, and scanning them twice would only cost time.
    void reuseInputStats(bool reuse) { m_reuseInputStats = reuse; }

    void consume(AudioBuffer& block) {
        const auto started = Clock::now();
        consumeBlock(block);
        m_seconds += secondsSince(started);
    }

    Frames written() const { return m_written; }
    Frames clipped() const { return m_clipped; }
    const std::vector<math::SampleStats>& stats() const { return m_stats; }
    /// Time spent in consume() / of which in the tap.
    double seconds() const { return m_seconds; }
    double tapSeconds() const { return m_tapSeconds; }
    /// Of seconds(), waiting for the writer to take a block.
    double writeWaitSeconds() const { return m_writeWaitSeconds; }

private:
    void consumeBlock(AudioBuffer& block) {
        if (m_skip > 0) {
            const Frames skip = std::min(m_skip, block.frames());
            block.dropFront(skip);
            m_skip -= skip;
        }
        const Frames n = std::min(block.frames(), m_length - m_written);
        if (n <= 0) {
            return;
        }
        block.setFrames(n);
        const std::size_t samples = static_cast<std::size_t>(n) * static_cast<std::size_t>(m_channels);
        WriteBlock out;
        if (m_writer != nullptr) {
            const auto waiting = Clock::now();
            out = m_writer->take();
            m_writeWaitSeconds += secondsSince(waiting);
        } else {
            out = std::move(m_unwritten);
        }
        out.frames = n;
        const bool integer = isInteger(m_options.format);
        const bool shaped = integer && m_quant.dither && m_options.dither == DitherMode::Shaped;
        const bool readBack = integer && m_options.tap != nullptr;
        const bool interleaved = !integer && m_writer != nullptr; // float samples for the file
        if (integer) {
            out.ints.resize(samples);
        } else if (interleaved) {
            out.floats.resize(samples);
        }
        if (readBack) {
            m_readBack.reset(m_channels, n);
            m_readBack.setFrames(n);
        }
        if (shaped) {
            // Noise shaping feeds each sample's error into the next: sequential per channel (one
            // implementation, the same file whatever the backend and the thread count).
            shape(block, out);
        }
        const auto slices = static_cast<std::size_t>((n + kSinkSlice - 1) / kSinkSlice);
        m_sliceStats.assign(m_reuseInputStats ? 0 : slices * static_cast<std::size_t>(m_channels),
                            math::emptyStats());
        m_sliceClipped.assign(slices, 0);
        m_pool.parallelFor(slices, [&](std::size_t k, unsigned) {
            const Frames from = static_cast<Frames>(k) * kSinkSlice;
            const Frames count = std::min(kSinkSlice, n - from);
            const auto at = static_cast<std::size_t>(from) * static_cast<std::size_t>(m_channels);
            if (!m_reuseInputStats) {
                for (int c = 0; c < m_channels; ++c) {
                    m_sliceStats[k * static_cast<std::size_t>(m_channels) + static_cast<std::size_t>(c)] =
                        detail::blockStats(block.channel(c) + from, count, m_written + from);
                }
            }
            if (!integer) {
                if (interleaved) {
                    interleave(block, from, count, out.floats.data() + at);
                }
                return;
            }
            if (!shaped) {
                m_sliceClipped[k] =
                    detail::quantizeFrames(block, from, count, m_written, m_quant, out.ints.data() + at);
            }
            if (readBack) {
                // What the file will hold, as libsndfile reads it: float(code) · 2^−31 (exact for
                // up to 24 bits).
                constexpr float kScale = 1.0f / 2147483648.0f;
                for (int c = 0; c < m_channels; ++c) {
                    float* y = m_readBack.channel(c) + from;
                    const std::int32_t* code = out.ints.data() + at + c;
                    for (Frames i = 0; i < count; ++i) {
                        y[i] = static_cast<float>(code[static_cast<std::size_t>(i * m_channels)]) * kScale;
                    }
                }
            }
        });
        for (std::size_t k = 0; k < m_sliceStats.size(); ++k) { // slice by slice, in order
            const std::size_t c = k % static_cast<std::size_t>(m_channels);
            m_stats[c] = math::combineStats(m_stats[c], m_sliceStats[k]);
        }
        for (const Frames c : m_sliceClipped) {
            m_clipped += c;
        }
        if (m_options.tap != nullptr) {
            const auto started = Clock::now();
            m_options.tap->write(readBack ? m_readBack : block);
            m_tapSeconds += secondsSince(started);
        }
        if (m_writer != nullptr) {
            m_writer->submit(std::move(out));
        } else {
            m_unwritten = std::move(out); // its buffers, for the next block
        }
        m_written += n;
    }

    /// Quantises `block` with F-weighted noise shaping into out.ints (frame-major).
    void shape(const AudioBuffer& block, WriteBlock& out) {
        m_shape.resize(static_cast<std::size_t>(m_channels));
        for (int c = 0; c < m_channels; ++c) {
            const float* x = block.channel(c);
            math::ShapeState& st = m_shape[static_cast<std::size_t>(c)];
            for (Frames i = 0; i < out.frames; ++i) {
                const math::QuantizedSample q =
                    math::quantizeShaped(x[i], m_quant, static_cast<std::uint32_t>(c),
                                         static_cast<std::uint64_t>(m_written + i), st);
                out.ints[static_cast<std::size_t>(i * m_channels + c)] = q.leftJustified;
                m_clipped += q.clipped ? 1 : 0;
            }
        }
    }

    WriteBehind* m_writer;
    WriteBlock m_unwritten; ///< without a writer: the block's codes, kept for the next block
    const RenderOptions& m_options;
    math::QuantizeParams m_quant;
    Frames m_skip;
    Frames m_length;
    int m_channels;
    Frames m_written = 0;
    Frames m_clipped = 0;
    bool m_reuseInputStats = false;
    std::vector<math::SampleStats> m_stats;
    std::vector<math::SampleStats> m_sliceStats; ///< a block's, per slice and channel
    std::vector<Frames> m_sliceClipped;          ///< a block's samples clipped, per slice
    std::vector<math::ShapeState> m_shape;       ///< noise-shaping feedback, per channel
    AudioBuffer m_readBack;                      ///< integer output as the tap sees it
    detail::ThreadPool m_pool;
    double m_seconds = 0;
    double m_tapSeconds = 0;
    double m_writeWaitSeconds = 0;
};

void checkCancel(const JobControl& control) {
    if (control.cancel != nullptr && control.cancel->cancelled()) {
        throw CancelledError();
    }
}

/// Blocks waiting for a stage's thread (StageLine).
constexpr std::size_t kStageDepth = 2;

/// The stages between the reader and the sink. Unthreaded, every stage runs on the render's
/// thread, each block through the whole chain in turn. Threaded, the first stage runs on the
/// render's thread and every later one on a thread of its own, a bounded number of blocks behind
/// the stage before it: on the GPU each stage's device work and copies (its own stream) then
/// overlap the others' instead of following them, and on the CPU a stage's serial parts overlap
/// the others' parallel ones. Each stage still sees the same blocks in the same order and is
/// called from one thread at a time, so the output is the same to the bit; blocks are handed
/// over by swapping buffers, not copied. An error on any stage's thread reaches the render's
/// thread with its own type (WorkBehind rethrows it upstream).
class StageLine {
public:
    using Deliver = std::function<void(AudioBuffer&)>;

    /// `memory`: where the blocks live (Backend::hostMemory: page-locked for a device's copies).
    StageLine(std::vector<std::unique_ptr<Stage>>& stages, std::vector<StageRecord>& records, bool threaded,
              const JobControl& control, HostMemory* memory, Deliver toSink)
        : m_stages(stages), m_records(records), m_control(control), m_memory(memory),
          m_toSink(std::move(toSink)), m_out(stages.size()), m_released(stages.size()),
          m_behind(stages.size()) {
        for (std::size_t k = 1; threaded && k < stages.size(); ++k) {
            m_behind[k] = std::make_unique<detail::WorkBehind<Item>>(kStageDepth, [this, k](Item& item) {
                if (item.flush) {
                    flushFrom(k);
                } else {
                    run(k, item.block);
                }
            });
        }
    }

    /// Upstream threads first: a stage's thread may be handing a block to the next one's.
    ~StageLine() {
        for (auto& behind : m_behind) {
            behind.reset();
        }
    }

    StageLine(const StageLine&) = delete;
    StageLine& operator=(const StageLine&) = delete;

    /// The next input block, from the render's thread (its buffer may be swapped for another).
    /// Every buffer a stage reads or writes is in the line's memory: the blocks are swapped along
    /// the line and back to the reader, so each moves there once.
    void push(AudioBuffer& block) {
        block.useMemory(m_memory);
        deliver(0, block);
    }

    /// End of input: every stage flushed in order, what each releases pushed through the stages
    /// after it; returns when the last stage has handed its last block to the sink.
    void finish() {
        flushFrom(0);
        for (auto& behind : m_behind) {
            if (behind) {
                behind->finish(); // in order: each has then passed its flush on to the next
            }
        }
    }

private:
    struct Item {
        AudioBuffer block;
        bool flush = false; ///< no block: flush the stage
    };

    /// Hands `block` (stage k's input) to stage k, or to the sink after the last stage.
    void deliver(std::size_t k, AudioBuffer& block) {
        if (k == m_stages.size()) {
            m_toSink(block);
        } else if (m_behind[k]) {
            Item item = m_behind[k]->take();
            item.flush = false;
            std::swap(item.block, block);
            m_behind[k]->submit(std::move(item));
        } else {
            run(k, block);
        }
    }

    /// Stage k over one block, on the thread that runs it.
    void run(std::size_t k, AudioBuffer& block) {
        const auto t = Clock::now();
        m_out[k].useMemory(m_memory);
        m_stages[k]->process(block, m_out[k]);
        m_records[k].seconds += secondsSince(t);
        deliver(k + 1, m_out[k]);
    }

    /// Flushes stage k (on its thread), then the stages after it.
    void flushFrom(std::size_t k) {
        if (k == m_stages.size()) {
            return;
        }
        for (;;) {
            checkCancel(m_control);
            const auto t = Clock::now();
            m_released[k].useMemory(m_memory);
            m_stages[k]->flush(m_released[k]);
            m_records[k].seconds += secondsSince(t);
            if (m_released[k].empty()) {
                break;
            }
            deliver(k + 1, m_released[k]);
        }
        if (k + 1 < m_stages.size() && m_behind[k + 1]) {
            Item item = m_behind[k + 1]->take();
            item.flush = true;
            item.block.setFrames(0);
            m_behind[k + 1]->submit(std::move(item));
        } else {
            flushFrom(k + 1);
        }
    }

    std::vector<std::unique_ptr<Stage>>& m_stages;
    std::vector<StageRecord>& m_records; ///< record k's seconds: written by stage k's thread only
    const JobControl& m_control;
    HostMemory* m_memory;
    Deliver m_toSink;
    std::vector<AudioBuffer> m_out;      ///< stage k's output, on its thread
    std::vector<AudioBuffer> m_released; ///< stage k's flushed frames, on its thread
    std::vector<std::unique_ptr<detail::WorkBehind<Item>>> m_behind; ///< [k ≥ 1] when threaded
};

} // namespace

RenderReport render(AudioSource& source, std::vector<std::unique_ptr<Stage>> stages,
                    const std::filesystem::path& output, const RenderOptions& options, Backend& backend,
                    const JobControl& control, const BeforeCommit& beforeCommit) {
    const auto t0 = Clock::now();
    RenderReport report;
    report.source = source.sourceName();
    report.output = output;
    report.format = options.format;
    report.inputRate = source.sampleRate();
    report.inputFrames = source.totalFrames();
    report.backend = std::string(backend.name());

    if (source.totalFrames() <= 0) {
        throw AudioContentError(source.sourceName(), "no audio (0 frames); nothing to render");
    }
    LATHE_EXPECTS(options.blockFrames > 0, "block size must be positive");
    LATHE_EXPECTS(options.writeFile || (options.tap != nullptr && !beforeCommit),
                  "a render without a file needs a tap and has no file to check before a commit");

    if (const auto inputPath = source.filePath(); inputPath && options.writeFile) {
        ensureDistinctFiles(*inputPath, output);
    }

    // Configure the chain and work out latency, tail and the exact output length.
    StreamFormat format{source.sampleRate(), source.channelCount(), source.channelLayout()};
    std::vector<StreamFormat> formats;
    bool altered = false;
    for (auto& stage : stages) {
        const StreamFormat in = format;
        format = stage->prepare(in, options.blockFrames);
        // The delay the stream carries into the next stage (for stages that report over time).
        format.upstreamLatency =
            convertedFrames(in.upstreamLatency, in.sampleRate, format.sampleRate) + stage->latency();
        formats.push_back(format);
        altered = altered || stage->altersSamples();
    }
    Frames latency = 0;
    Frames tail = 0;
    for (std::size_t k = 0; k < stages.size(); ++k) {
        report.stages.push_back({stages[k]->name(), stages[k]->latency(), stages[k]->tail(), 0.0, {}});
        // A stage's latency and tail are in its own output frames; express them at the final rate.
        latency += convertedFrames(stages[k]->latency(), formats[k].sampleRate, format.sampleRate);
        tail += convertedFrames(stages[k]->tail(), formats[k].sampleRate, format.sampleRate);
    }
    const Frames alignedLength =
        convertedFrames(source.totalFrames(), source.sampleRate(), format.sampleRate);
    const Frames length = alignedLength + (options.tail == TailPolicy::Keep ? tail : 0);
    report.outputRate = format.sampleRate;
    report.channels = format.channels;
    report.layout = format.layout;
    report.latencyFrames = latency;
    report.tailFrames = tail;
    report.tailKept = options.tail == TailPolicy::Keep;

    const auto [dither, ditherReason] = decideDither(options, source.integerBits(), altered);
    report.dithered = dither;
    report.ditherReason = ditherReason;
    const math::QuantizeParams quant = math::makeQuantizeParams(
        isInteger(options.format) ? sampleFormatBits(options.format) : 24, dither, options.ditherSeed);

    // Output checks come before any processing: unwritable directory (same file as the input is
    // checked before the stages are even designed, above).
    OutputSpec spec;
    spec.container = options.container;
    spec.format = options.format;
    spec.sampleRate = format.sampleRate;
    spec.channels = format.channels;
    spec.layout = format.layout;
    spec.expectedFrames = length;
    spec.durable = options.durable;
    std::optional<AudioWriter> writer;
    if (options.writeFile) {
        writer.emplace(output, spec, options.faults);
        report.container = writer->effectiveContainer();
    } else {
        report.container = options.container;
    }

    // The statistics of every block (the NaN/Inf scan, peaks, DC) are taken on the host whatever
    // renders: the block is there already, and a device takes a synchronous round trip per block
    // for arithmetic done at memory speed here (about 0.3 ms per 65536 frames on the H200
    // machine, measured for the loudness meter's, which moved to the host in 4ec4c4a).
    std::unique_ptr<Backend> reference;
    Backend* statsBackend = &backend;
    if (backend.name() != std::string_view("cpu")) {
        reference = makeCpuBackend();
        statsBackend = reference.get();
    }
    std::optional<WriteBehind> writeBehind;
    if (writer) {
        writeBehind.emplace(kWriteDepth, writeTo(*writer));
    }
    Sink sink(writeBehind ? &*writeBehind : nullptr, options, quant, latency, length, format.channels,
              std::min(kSinkThreads, detail::threadBudget(options.threads)));
    sink.reuseInputStats(stages.empty());
    if (options.tap != nullptr) {
        options.tap->begin(format.sampleRate, format.channels, format.layout, length);
    }
    // The sink's work (output statistics, quantisation, the tap's read-back) runs on a thread of
    // its own beside the stages, which go on with the next block meanwhile — unless the budget is
    // one thread, or nothing computes before the sink (a conversion: the sink is then the work,
    // and a hand-over would only add one). Blocks are handed over, not copied: the chain's last
    // buffer is swapped for one the sink has finished with.
    std::optional<detail::WorkBehind<AudioBuffer>> sinkBehind;
    if (options.threads != 1 && !stages.empty()) {
        sinkBehind.emplace(kSinkDepth, [&sink](AudioBuffer& block) { sink.consume(block); });
    }
    // Hands a block from the end of the chain to the sink (from the last stage's thread): on
    // that thread, or swapped into the sink's queue.
    auto toSink = [&](AudioBuffer& block) {
        if (!sinkBehind) {
            sink.consume(block);
            return;
        }
        const auto waiting = Clock::now();
        AudioBuffer handed = sinkBehind->take();
        report.sinkWaitSeconds += secondsSince(waiting);
        std::swap(handed, block);
        sinkBehind->submit(std::move(handed));
    };
    // With more than one stage and a budget above one thread, the stages after the first run on
    // threads of their own (StageLine). Declared after the sink's queue: destroyed before it.
    StageLine line(stages, report.stages, options.threads != 1 && stages.size() > 1, control,
                   backend.hostMemory(), toSink);

    report.inputStats.assign(static_cast<std::size_t>(source.channelCount()), math::emptyStats());
    std::vector<math::SampleStats> blockStats;
    AudioBuffer input;
    Frames position = 0;
    // Reading starts only now: a bad destination has failed above without reading a frame.
    // The input statistics are taken on the reader's thread as each block arrives, so they
    // overlap the stages instead of preceding them — unless the budget is one thread (a batch
    // job), whose computing stays on this thread.
    detail::Prefetcher::StatsHook statsHook;
    if (options.threads != 1) {
        statsHook = [statsBackend](const AudioBuffer& block, Frames at, std::vector<math::SampleStats>& out) {
            out.assign(static_cast<std::size_t>(block.channels()), math::emptyStats());
            statsBackend->accumulateStats(block, at, out);
        };
    }
    const bool statsRead = static_cast<bool>(statsHook);
    report.setupSeconds = secondsSince(t0);
    std::optional<detail::Prefetcher> prefetch(std::in_place, source, options.blockFrames, 2,
                                               std::move(statsHook));
    {
        for (;;) {
            checkCancel(control);
            const auto waiting = Clock::now();
            const Frames n = prefetch->next(input, &blockStats);
            report.readWaitSeconds += secondsSince(waiting);
            if (n == 0) {
                break;
            }
            if (!statsRead) {
                blockStats.assign(static_cast<std::size_t>(input.channels()), math::emptyStats());
                statsBackend->accumulateStats(input, position, blockStats);
            }
            const SamplePosition bad = firstNonFiniteOf(blockStats);
            if (bad.frame >= 0) {
                if (options.nonFinite == NonFinitePolicy::Error) {
                    throw AudioContentError(source.sourceName(),
                                            "non-finite sample (NaN or Inf) at frame " +
                                                std::to_string(bad.frame) + ", channel " +
                                                std::to_string(bad.channel + 1) +
                                                "; use --sanitize to replace such samples by silence",
                                            bad.channel, bad.frame);
                }
                report.sanitizedSamples += backend.sanitize(input);
            }
            for (std::size_t c = 0; c < blockStats.size(); ++c) {
                report.inputStats[c] = math::combineStats(report.inputStats[c], blockStats[c]);
            }
            position += n;
            line.push(input);
            if (control.progress) {
                control.progress(Progress{"render", position, source.totalFrames(), secondsSince(t0)});
            }
        }
    }
    report.decodeSeconds = prefetch->readSeconds();
    prefetch.reset(); // the reader thread stops before the source is asked for its warnings
    const auto drained = Clock::now();
    // End of input: flush each stage in order, pushing what it releases through the stages after it.
    line.finish();
    if (sinkBehind) {
        sinkBehind->finish();
    }
    LATHE_EXPECTS(sink.written() == length, "the chain produced " + std::to_string(sink.written()) +
                                                " frames where " + std::to_string(length) + " were due");
    if (writeBehind) {
        writeBehind->finish();
        report.encodeSeconds = writeBehind->busySeconds();
    }
    report.outputSeconds = sink.seconds(); // the sink's thread has finished (above)
    report.tapSeconds = sink.tapSeconds();
    report.writeWaitSeconds = sink.writeWaitSeconds();
    report.drainSeconds = secondsSince(drained);
    checkCancel(control);
    // A promise checked before the output replaces anything: the chain's output is finite (a
    // stage that produced NaN/Inf — a bug or a pathological filter — is an error, never a file
    // of silence or noise). Input NaN/Inf was refused or replaced before the stages.
    if (!stages.empty()) {
        for (std::size_t c = 0; c < sink.stats().size(); ++c) {
            const math::SampleStats& st = sink.stats()[c];
            if (st.nonFiniteCount > 0) {
                throw AudioContentError(output,
                                        "the chain produced " + std::to_string(st.nonFiniteCount) +
                                            " NaN/Inf samples (channel " + std::to_string(c + 1) +
                                            ", first at frame " + std::to_string(st.firstNonFinite) +
                                            "); nothing was written",
                                        static_cast<int>(c), st.firstNonFinite);
            }
        }
    }
    // The report is complete (the stages have flushed): the caller's checks of the finished
    // file, then the rename.
    report.inputFrames = position;
    report.outputFrames = sink.written();
    report.clippedSamples = sink.clipped();
    report.outputStats = stages.empty() ? report.inputStats : sink.stats();
    for (std::size_t k = 0; k < stages.size(); ++k) {
        report.stages[k].details = stages[k]->report(); // after the run: what the stage did
    }
    report.warnings = source.warnings();
    for (const StageRecord& st : report.stages) {
        if (st.details.contains("warnings")) {
            for (const auto& w : st.details["warnings"]) {
                report.warnings.push_back(st.name + ": " + w.get<std::string>());
            }
        }
    }
    if (writer) {
        for (const auto& w : writer->warnings()) {
            report.warnings.push_back(w);
        }
    }
    if (report.sanitizedSamples > 0) {
        report.warnings.push_back(std::to_string(report.sanitizedSamples) +
                                  " NaN/Inf samples replaced by silence");
    }
    if (report.clippedSamples > 0) {
        report.warnings.push_back(
            std::to_string(report.clippedSamples) +
            " samples clipped at integer full scale (lower the level or use --bits 32f)");
    }
    if (options.tap != nullptr) {
        options.tap->finish();
    }
    if (beforeCommit) {
        writer->finish();
        beforeCommit(writer->temporaryPath(), report);
        checkCancel(control);
    }
    if (writer) {
        writer->commit();
    }
    report.seconds = secondsSince(t0);
    return report;
}

RenderOptions resolveConvertOptions(const AudioFileInfo& input, const std::filesystem::path& output,
                                    const ConvertSettings& settings) {
    RenderOptions o;
    if (settings.container) {
        o.container = *settings.container;
    } else if (const auto c = containerForExtension(output)) {
        o.container = *c;
    } else {
        throw UsageError("cannot tell the output format from '" + output.filename().string() +
                         "'; use an extension .wav/.rf64/.flac/.aif or --format wav|rf64|flac|aiff");
    }
    const bool floatCapable = o.container != Container::Flac;
    if (settings.format) {
        o.format = *settings.format;
        if (!floatCapable && o.format == SampleFormat::Float32) {
            throw UsageError(
                "FLAC stores 16- or 24-bit integers only; use --bits 24 or 16 (or another format)");
        }
    } else {
        switch (input.encoding) {
        case Encoding::PcmU8:
        case Encoding::PcmS8:
        case Encoding::Pcm16:
            o.format = SampleFormat::Pcm16;
            break;
        case Encoding::Pcm24:
            o.format = SampleFormat::Pcm24;
            break;
        case Encoding::Pcm32:
        case Encoding::Float32:
        case Encoding::Float64:
            o.format = floatCapable ? SampleFormat::Float32 : SampleFormat::Pcm24;
            break;
        default:
            o.format = SampleFormat::Pcm24;
            break; // lossy sources: 24-bit keeps everything they hold
        }
    }
    o.dither = settings.dither;
    o.ditherSeed = settings.ditherSeed;
    o.nonFinite = settings.nonFinite;
    o.faults = settings.faults;
    return o;
}

RenderReport convertFile(const std::filesystem::path& input, const std::filesystem::path& output,
                         const ConvertSettings& settings, Backend& backend, const JobControl& control) {
    AudioReader reader(input, settings.reader);
    const RenderOptions options = resolveConvertOptions(reader.info(), output, settings);
    std::vector<std::unique_ptr<Stage>> stages;
    if (settings.sampleRate && *settings.sampleRate != reader.info().sampleRate) {
        stages.push_back(
            std::make_unique<ResampleStage>(*settings.sampleRate, detail::threadBudget(settings.threads)));
    }
    return render(reader, std::move(stages), output, options, backend, control);
}

} // namespace lathe
