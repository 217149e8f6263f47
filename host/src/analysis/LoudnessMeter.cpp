// SPDX-License-Identifier: GPL-3.0-or-later
// The host half of the loudness meter: chunking (with warm-up and look-ahead) and parallel
// dispatch of the per-sample work to the backend, then windows, gates, LRA, maxima and history
// from the records. See lathe/Loudness.h for what is measured and lathe/LoudnessKernel.h for the
// records.
#include "../core/Prefetcher.h"
#include "../core/ThreadPool.h"

#include <lathe/ChannelStats.h>
#include <lathe/Error.h>
#include <lathe/Inspect.h>
#include <lathe/Loudness.h>
#include <lathe/math/Loudness.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <future>
#include <limits>
#include <optional>
#include <thread>

namespace lathe {
namespace {

constexpr double kAbsoluteGateLufs = -70.0;
constexpr double kRelativeGateLu = -10.0;    // integrated loudness (BS.1770-5)
constexpr double kLraRelativeGateLu = -20.0; // loudness range (Tech 3342)
constexpr double kLraLowPercentile = 10.0;
constexpr double kLraHighPercentile = 95.0;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double lufs(double meanSquare) {
    return meanSquare > 0.0 ? math::lufsFromMeanSquare(meanSquare) : -std::numeric_limits<double>::infinity();
}

/// The relative gate and the integrated loudness of blocks that passed the absolute gate (BS.1770:
/// power mean, gate 10 LU below it, power mean of the blocks above the gate). `gated` not empty.
struct Gated {
    double relativeGateLufs;
    double integratedLufs;
};

Gated relativeGate(const std::vector<double>& gated) {
    double sum = 0.0;
    for (double ms : gated) {
        sum += ms;
    }
    const double relGate = lufs(sum / static_cast<double>(gated.size())) + kRelativeGateLu;
    double kept = 0.0;
    std::size_t n = 0;
    for (double ms : gated) {
        if (lufs(ms) > relGate) {
            kept += ms;
            ++n;
        }
    }
    return {relGate, lufs(kept / static_cast<double>(n))};
}

/// Turns chunk records, in order, into the measurement.
class Aggregator {
public:
    Aggregator(const LoudnessParams& p, std::vector<double> weights)
        : m_p(p), m_weights(std::move(weights)), m_blockSubs(4 * p.stepFrames / p.subBlockFrames),
          m_shortSubs(30 * p.stepFrames / p.subBlockFrames),
          m_ring(static_cast<std::size_t>(m_shortSubs), 0.0), m_channelTp(m_weights.size(), 0.0f),
          m_channelSp(m_weights.size(), 0.0f) {}

    std::size_t channels() const { return m_weights.size(); }

    void add(const LoudnessRecords& r, Frames chunkStart, Frames chunkFrames) {
        const Frames sub = m_p.subBlockFrames;
        const std::size_t subs = r.subBlockEnergy.front().size();
        for (std::size_t k = 0; k < subs; ++k) {
            if (static_cast<Frames>(k + 1) * sub > chunkFrames) {
                break; // a partial sub-block at the very end: no complete window ends there
            }
            double e = 0.0;
            for (std::size_t c = 0; c < m_weights.size(); ++c) {
                e += m_weights[c] * r.subBlockEnergy[c][k];
            }
            push(e);
        }
        const std::size_t steps = r.stepTruePeak.front().size();
        for (std::size_t s = 0; s < steps; ++s) {
            float stepTp = 0.0f;
            for (std::size_t c = 0; c < m_weights.size(); ++c) {
                const float tp = r.stepTruePeak[c][s];
                const float sp = r.stepSamplePeak[c][s];
                stepTp = std::max(stepTp, tp);
                if (tp > m_channelTp[c]) {
                    m_channelTp[c] = tp;
                }
                if (sp > m_channelSp[c]) {
                    m_channelSp[c] = sp;
                }
                if (tp > m_tp) {
                    m_tp = tp;
                    m_tpFrame = r.stepTruePeakFrame[c][s];
                    m_tpChannel = static_cast<int>(c);
                }
                if (sp > m_sp) {
                    m_sp = sp;
                    m_spStep = chunkStart / m_p.stepFrames + static_cast<Frames>(s);
                }
            }
            m_stepTp.push_back(amplitudeToDb(stepTp));
        }
    }

    LoudnessResult finish(Frames frames) {
        LoudnessResult r;
        const double fs = m_p.sampleRate;
        r.frames = frames;
        r.durationSeconds = static_cast<double>(frames) / fs;
        r.channelWeights = m_weights;

        // Integrated loudness: absolute then relative gate (strict '>').
        std::vector<double> gated;
        for (double ms : m_blocks) {
            if (lufs(ms) > kAbsoluteGateLufs) {
                gated.push_back(ms);
            }
        }
        r.gatedBlockMeanSquares = gated;
        if (frames == 0) {
            r.integratedNote = "no audio (0 frames)";
        } else if (m_blocks.empty()) {
            r.integratedNote = "too short: integrated loudness needs at least 400 ms of audio";
        } else if (gated.empty()) {
            // Digital silence, or audio that is all below the gate (a −70.5 dBFS tone): say which.
            r.integratedNote = m_sp > 0.0f ? "too quiet: no 400 ms block above the −70 LUFS absolute gate"
                                           : "silence: no 400 ms block above the −70 LUFS absolute gate";
        } else {
            const Gated g = relativeGate(gated);
            r.relativeGateLufs = g.relativeGateLufs;
            r.integratedLufs = g.integratedLufs;
        }

        // Loudness range (Tech 3342).
        std::vector<double> sAbs;
        for (double v : m_shortTermValues) {
            if (v > kAbsoluteGateLufs) {
                sAbs.push_back(v);
            }
        }
        if (m_shortTermValues.empty()) {
            r.lraNote = "too short: loudness range needs at least 3 s of audio";
        } else if (sAbs.empty()) {
            r.lraNote = "silence: no short-term value above −70 LUFS";
        } else {
            double power = 0.0;
            for (double v : sAbs) {
                power += math::meanSquareFromLufs(v);
            }
            const double relGate = lufs(power / static_cast<double>(sAbs.size())) + kLraRelativeGateLu;
            std::vector<double> kept;
            for (double v : sAbs) {
                if (v > relGate) {
                    kept.push_back(v);
                }
            }
            std::sort(kept.begin(), kept.end());
            auto percentile = [&](double p) {
                const double index = std::round((static_cast<double>(kept.size()) - 1.0) * p / 100.0);
                return kept[static_cast<std::size_t>(index)];
            };
            r.lraLowLufs = percentile(kLraLowPercentile);
            r.lraHighLufs = percentile(kLraHighPercentile);
            r.lraLu = *r.lraHighLufs - *r.lraLowLufs;
        }

        if (m_maxMomentary > 0.0) {
            r.maxMomentaryLufs = TimedLevel{lufs(m_maxMomentary), static_cast<double>(m_maxMomentaryAt) / fs};
        }
        if (m_maxShort > 0.0) {
            r.maxShortTermLufs = TimedLevel{lufs(m_maxShort), static_cast<double>(m_maxShortAt) / fs};
        }
        if (m_tp > 0.0f) {
            r.truePeakDbtp = TimedLevel{amplitudeToDb(m_tp), m_tpFrame / fs};
            r.truePeakChannel = m_tpChannel;
        }
        if (m_sp > 0.0f) {
            r.samplePeakDbfs = TimedLevel{amplitudeToDb(m_sp), static_cast<double>(m_spStep) * 0.1};
        }
        for (std::size_t c = 0; c < m_weights.size(); ++c) {
            r.channelTruePeakDbtp.push_back(
                m_channelTp[c] > 0.0f ? std::optional(amplitudeToDb(m_channelTp[c])) : std::nullopt);
            r.channelSamplePeakDbfs.push_back(
                m_channelSp[c] > 0.0f ? std::optional(amplitudeToDb(m_channelSp[c])) : std::nullopt);
        }
        if (r.truePeakDbtp && r.integratedLufs) {
            r.plrDb = r.truePeakDbtp->value - *r.integratedLufs;
        }
        if (r.truePeakDbtp && r.maxShortTermLufs) {
            r.psrDb = r.truePeakDbtp->value - r.maxShortTermLufs->value;
        }

        // History: one entry per 100 ms step, including a partial last one for the peaks.
        r.history.stepSeconds = static_cast<double>(m_p.stepFrames) / fs;
        r.history.momentaryLufs = m_historyM;
        r.history.shortTermLufs = m_historyS;
        r.history.truePeakDbtp = m_stepTp;
        r.history.momentaryLufs.resize(m_stepTp.size(), kNaN);
        r.history.shortTermLufs.resize(m_stepTp.size(), kNaN);

        r.histogram.shortTermCounts = histogram(m_shortTermValues);
        std::vector<double> momentary;
        for (double ms : m_blocks) {
            momentary.push_back(lufs(ms));
        }
        r.histogram.momentaryCounts = histogram(momentary);
        return r;
    }

private:
    static std::vector<std::int64_t> histogram(const std::vector<double>& values) {
        constexpr int kBins = 80; // −70 … +10 LUFS
        std::vector<std::int64_t> counts(kBins, 0);
        for (double v : values) {
            if (v > kAbsoluteGateLufs) {
                const int bin = std::min(kBins - 1, static_cast<int>(std::floor(v - kAbsoluteGateLufs)));
                ++counts[static_cast<std::size_t>(bin)];
            }
        }
        return counts;
    }

    void push(double e) {
        const auto at = [&](std::int64_t k) -> double& {
            return m_ring[static_cast<std::size_t>(k % m_shortSubs)];
        };
        if (m_count >= m_shortSubs) {
            m_sumShort -= at(m_count - m_shortSubs);
        }
        if (m_count >= m_blockSubs) {
            m_sumBlock -= at(m_count - m_blockSubs);
        }
        at(m_count) = e;
        m_sumBlock += e;
        m_sumShort += e;
        ++m_count;
        // Running sums drift by rounding; resum exactly now and then (and never go negative).
        if (m_count % 4096 == 0) {
            m_sumBlock = 0.0;
            for (std::int64_t k = std::max<std::int64_t>(0, m_count - m_blockSubs); k < m_count; ++k) {
                m_sumBlock += at(k);
            }
            m_sumShort = 0.0;
            for (std::int64_t k = std::max<std::int64_t>(0, m_count - m_shortSubs); k < m_count; ++k) {
                m_sumShort += at(k);
            }
        }
        const Frames t = m_count * m_p.subBlockFrames; // end of the windows, in frames
        const double msBlock = std::max(0.0, m_sumBlock) / static_cast<double>(4 * m_p.stepFrames);
        const double msShort = std::max(0.0, m_sumShort) / static_cast<double>(30 * m_p.stepFrames);
        const bool haveBlock = m_count >= m_blockSubs;
        const bool haveShort = m_count >= m_shortSubs;
        if (haveBlock && msBlock > m_maxMomentary) {
            m_maxMomentary = msBlock;
            m_maxMomentaryAt = t;
        }
        if (haveShort && msShort > m_maxShort) {
            m_maxShort = msShort;
            m_maxShortAt = t;
        }
        if (t % m_p.stepFrames == 0) {
            m_historyM.push_back(haveBlock ? lufs(msBlock) : kNaN);
            m_historyS.push_back(haveShort ? lufs(msShort) : kNaN);
            if (haveBlock) {
                m_blocks.push_back(msBlock);
            }
            if (haveShort) {
                m_shortTermValues.push_back(lufs(msShort));
            }
        }
    }

    const LoudnessParams& m_p;
    std::vector<double> m_weights;
    std::int64_t m_blockSubs;
    std::int64_t m_shortSubs;
    std::vector<double> m_ring;
    std::int64_t m_count = 0;
    double m_sumBlock = 0.0;
    double m_sumShort = 0.0;
    double m_maxMomentary = 0.0;
    Frames m_maxMomentaryAt = 0;
    double m_maxShort = 0.0;
    Frames m_maxShortAt = 0;
    std::vector<double> m_blocks;          // mean square of every complete 400 ms block, every 100 ms
    std::vector<double> m_shortTermValues; // LUFS, every 100 ms from 3 s on
    std::vector<double> m_historyM;
    std::vector<double> m_historyS;
    std::vector<double> m_stepTp;
    std::vector<float> m_channelTp;
    std::vector<float> m_channelSp;
    float m_tp = 0.0f;
    double m_tpFrame = 0.0;
    int m_tpChannel = -1;
    float m_sp = 0.0f;
    Frames m_spStep = 0;
};

} // namespace

std::vector<double> channelWeights(const ChannelLayout& layout, bool dualMono, const std::string& source) {
    if (!layout.known()) {
        throw InputError(source,
                         "has " + std::to_string(layout.channels()) +
                             " channels but no channel layout; loudness needs to know which is the LFE and "
                             "which are surrounds: pass --layout (e.g. 5.1 or \"L R C LFE Ls Rs\")");
    }
    const bool hasSides = std::find(layout.speakers.begin(), layout.speakers.end(), Speaker::SideLeft) !=
                              layout.speakers.end() ||
                          std::find(layout.speakers.begin(), layout.speakers.end(), Speaker::SideRight) !=
                              layout.speakers.end();
    std::vector<double> w;
    for (Speaker s : layout.speakers) {
        switch (s) {
        case Speaker::LowFrequency:
            w.push_back(0.0);
            break;
        case Speaker::SideLeft:
        case Speaker::SideRight:
            w.push_back(1.41);
            break;
        // WAVE's "back" pair are the surrounds of 5.x (±110°: 1.41), but the rear pair of 7.x
        // (±135°…150°: 1.0) when a side pair is present.
        case Speaker::BackLeft:
        case Speaker::BackRight:
            w.push_back(hasSides ? 1.0 : 1.41);
            break;
        case Speaker::Mono:
            w.push_back(dualMono ? 2.0 : 1.0);
            break;
        default:
            w.push_back(1.0);
            break;
        }
    }
    return w;
}

namespace {

/// The aggregator's measurement of `frames` frames; with `truePeak` false what was recorded as the
/// true peak is the sample peak: no true-peak figures then.
LoudnessResult finishMeasurement(Aggregator& aggregator, Frames frames, bool truePeak) {
    LoudnessResult r = aggregator.finish(frames);
    if (!truePeak) {
        r.truePeakDbtp.reset();
        r.truePeakChannel = -1;
        r.channelTruePeakDbtp.clear();
        r.plrDb.reset();
        r.psrDb.reset();
        r.history.truePeakDbtp.clear();
    }
    return r;
}

} // namespace

LoudnessResult loudnessFromRecords(const LoudnessParams& params, std::vector<double> weights,
                                   std::span<const ChunkRecords> chunks, Frames frames) {
    Aggregator aggregator(params, std::move(weights));
    for (const ChunkRecords& c : chunks) {
        LATHE_EXPECTS(c.records.subBlockEnergy.size() == aggregator.channels(),
                      "records of every weighted channel");
        aggregator.add(c.records, c.start, c.frames);
    }
    return finishMeasurement(aggregator, frames, params.truePeak);
}

LoudnessResult measureLoudness(const std::filesystem::path& file, const LoudnessOptions& options,
                               Backend& backend, const JobControl& control) {
    AudioReader reader(file, options.reader);
    return measureLoudness(reader, options, backend, control);
}

LoudnessResult measureLoudness(AudioSource& source, const LoudnessOptions& options, Backend& backend,
                               const JobControl& control) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    // A backend without loudness kernels measures on the CPU reference and the result names the
    // backend that measured (r.backend): the numbers are the reference's. The per-block statistics
    // (non-finite samples, the file's peaks) are taken on the host whatever measures: the block is
    // on the host already, and a device would take a synchronous round trip per 65536 frames for
    // arithmetic done at memory speed here (on the H200 machine analyze on cuda was 0.19 s + 0.85 s
    // per hour slower than on the CPU, about such a round trip per block).
    auto reference = makeCpuBackend();
    Backend& meter = backend.supports(Capability::Loudness) ? backend : *reference;
    LoudnessParams params = LoudnessParams::forRate(source.sampleRate());
    params.truePeak = options.truePeak;
    const ChannelLayout layout = source.channelLayout();
    Aggregator aggregator(params, channelWeights(layout, options.dualMono, source.sourceName()));
    const int channels = source.channelCount();
    const Frames warm = params.warmupFrames;
    const Frames ahead = params.lookaheadFrames;
    const unsigned budget = detail::threadBudget(options.threads);
    const Backend::LoudnessFeed feed = meter.loudnessFeed(channels, params.stepFrames, budget);
    const Frames chunkFrames =
        (options.chunkSteps > 0 ? options.chunkSteps : feed.chunkSteps) * params.stepFrames;
    const unsigned threads = feed.inFlight;

    struct Measured {
        LoudnessRecords records;
        AudioBuffer chunk; ///< its samples, handed back to hold a later chunk's
    };
    struct Pending {
        std::future<Measured> measured;
        Frames start;
        Frames frames;
    };
    std::deque<Pending> pending;
    // Chunks measured, kept for the next ones: a fresh chunk each time cost its allocation and
    // zeroing on this thread (a minute of stereo per chunk on the CUDA backend: 23 MB).
    std::vector<AudioBuffer> spare;
    Frames consumed = 0;
    auto collect = [&] {
        Pending p = std::move(pending.front());
        pending.pop_front();
        Measured m = p.measured.get();
        aggregator.add(m.records, p.start, p.frames);
        spare.push_back(std::move(m.chunk));
        consumed = p.start + p.frames;
        if (control.progress) {
            control.progress(Progress{"loudness", consumed, source.totalFrames(),
                                      std::chrono::duration<double>(Clock::now() - t0).count()});
        }
    };

    // `stream` holds frames [streamStart, streamStart + stream.frames()) of the file.
    AudioBuffer stream(channels, warm + ahead + 65536); // grows to a chunk plus margins as needed
    Frames streamStart = 0;
    Frames nextChunk = 0;
    Frames total = 0;
    bool ended = false;
    std::vector<math::SampleStats> stats;
    std::vector<math::SampleStats> fileStats(static_cast<std::size_t>(channels), math::emptyStats());
    AudioBuffer block;
    auto submit = [&](Frames frames) {
        AudioBuffer chunk;
        if (!spare.empty()) {
            chunk = std::move(spare.back());
            spare.pop_back();
        }
        const Frames length = warm + frames + ahead;
        chunk.useMemory(meter.hostMemory()); // the meter's device copies it from there fastest
        chunk.reset(channels, length);
        chunk.setFrames(length);
        // The stream's frames, zeros before the file's first and after its last.
        const Frames from = nextChunk - warm; // file frame at chunk index 0
        const Frames lo = std::max(from, streamStart);
        const Frames hi = std::max(lo, std::min(from + length, streamStart + stream.frames()));
        for (int c = 0; c < channels; ++c) {
            float* dst = chunk.channel(c);
            std::fill(dst, dst + (lo - from), 0.0f);
            std::copy(stream.channel(c) + (lo - streamStart), stream.channel(c) + (hi - streamStart),
                      dst + (lo - from));
            std::fill(dst + (hi - from), dst + length, 0.0f);
        }
        const Frames start = nextChunk;
        Pending p{
            // One thread (a batch job's budget): the chunk is measured on this thread, when
            // collected; otherwise on its own, overlapping the reading of the next.
            std::async(
                threads == 1 ? std::launch::deferred : std::launch::async,
                [&meter, &params, start, frames, buffer = std::move(chunk)]() mutable {
                    Measured m;
                    meter.measureLoudnessChunk(params, LoudnessChunk{&buffer, start, frames}, m.records);
                    m.chunk = std::move(buffer);
                    return m;
                }),
            start, frames};
        pending.push_back(std::move(p));
        nextChunk += frames;
        // Keep only what the next chunk's warm-up still needs.
        const Frames keepFrom = std::max<Frames>(0, nextChunk - warm);
        if (keepFrom > streamStart) {
            stream.dropFront(std::min(keepFrom - streamStart, stream.frames()));
            streamStart = keepFrom;
        }
        while (pending.size() > threads) {
            collect();
        }
    };

    {
        // Reading ahead on a worker overlaps file I/O (no computing to speak of); a source that
        // computes (a chain, such as the targeting's trial limiter) is read on this thread when
        // the budget is one thread.
        constexpr Frames kReadFrames = 65536;
        std::optional<detail::Prefetcher> prefetch;
        if (threads > 1 || source.filePath()) {
            prefetch.emplace(source, kReadFrames, 2);
        }
        while (!ended) {
            if (control.cancel != nullptr && control.cancel->cancelled()) {
                throw CancelledError();
            }
            const Frames n = prefetch ? prefetch->next(block) : source.read(block, kReadFrames);
            if (n == 0) {
                ended = true;
            } else {
                // NaN/Inf have no loudness and would poison the filters: name the first one.
                stats.assign(static_cast<std::size_t>(channels), math::emptyStats());
                reference->accumulateStats(block, total, stats);
                const SamplePosition bad = firstNonFiniteOf(stats);
                if (bad.frame >= 0) {
                    throw AudioContentError(source.sourceName(),
                                            "non-finite sample (NaN or Inf) at frame " +
                                                std::to_string(bad.frame) + ", channel " +
                                                std::to_string(bad.channel + 1) + "; loudness is undefined",
                                            bad.channel, bad.frame);
                }
                for (std::size_t c = 0; c < stats.size(); ++c) {
                    fileStats[c] = math::combineStats(fileStats[c], stats[c]);
                }
                if (options.blockTap) {
                    options.blockTap(block, total, stats);
                }
                stream.append(block, 0, n);
                total += n;
            }
            const Frames available = streamStart + stream.frames();
            while (available - nextChunk >= chunkFrames + ahead) {
                submit(chunkFrames);
            }
            if (ended) {
                while (nextChunk < total) {
                    submit(std::min(chunkFrames, total - nextChunk));
                }
            }
        }
    }
    while (!pending.empty()) {
        collect();
    }

    LoudnessResult r = finishMeasurement(aggregator, total, options.truePeak);
    r.source = source.sourceName();
    r.sampleRate = source.sampleRate();
    r.channels = channels;
    r.layout = layout;
    r.sampleStats = std::move(fileStats);
    r.backend = std::string(meter.name());
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
}

AlbumLoudness albumLoudness(std::span<const LoudnessResult> results) {
    AlbumLoudness a;
    std::vector<double> blocks;
    for (const auto& r : results) {
        blocks.insert(blocks.end(), r.gatedBlockMeanSquares.begin(), r.gatedBlockMeanSquares.end());
    }
    if (blocks.empty()) {
        a.note = "no 400 ms block above the −70 LUFS absolute gate in any file";
        return a;
    }
    a.integratedLufs = relativeGate(blocks).integratedLufs;
    return a;
}

} // namespace lathe
