// SPDX-License-Identifier: GPL-3.0-or-later
#include "../core/Prefetcher.h"
#include "../core/ThreadPool.h"
#include "HeldAudio.h"
#include "LoudnessTap.h"

#include <lathe/ChainSource.h>
#include <lathe/Error.h>
#include <lathe/LimiterStage.h>
#include <lathe/Loudness.h>
#include <lathe/Master.h>
#include <lathe/ResampleStage.h>
#include <lathe/Text.h>

#include <algorithm>
#include <chrono>
#include <new>
#include <optional>
#include <thread>
#include <unistd.h>
#include <variant>

namespace lathe {

RenderOptions resolveMasterOptions(const AudioFileInfo& input, const std::filesystem::path& output,
                                   const MasterSettings& settings) {
    ConvertSettings c;
    c.container = settings.container;
    c.format = settings.format;
    c.dither = settings.dither;
    c.ditherSeed = settings.ditherSeed;
    c.nonFinite = settings.nonFinite;
    c.faults = settings.faults;
    RenderOptions o = resolveConvertOptions(input, output, c);
    if (!settings.format) {
        // A master carries more than its source's bits (gain, filters): 24-bit unless the source
        // is float and the container can hold float. 16-bit only when asked (with dither).
        const bool floatSource = input.encoding == Encoding::Float32 || input.encoding == Encoding::Float64;
        o.format =
            floatSource && o.container != Container::Flac ? SampleFormat::Float32 : SampleFormat::Pcm24;
    }
    o.tail = settings.tail;
    o.threads = settings.threads;
    return o;
}

namespace {

/// The targeting measures the files it writes as they are written (detail::LoudnessTap, on a
/// thread beside the render) from this thread budget on; with fewer it reads them back after.
/// The meter needs about a core of its own: on 2 vCPUs the tapped hour master took 19.12 s
/// against 18.58 s reading back (the meter competed with the render), the same output.
constexpr unsigned kTapMinThreads = 4;
/// The intermediate is held in memory (within MasterSettings::intermediateMemoryBytes) from this
/// thread budget on; with fewer it goes through a file. Fresh memory costs the kernel's zeroing
/// of every page (0.4 s per 0.69 GB on the 2-vCPU development machine), which competes with the
/// render on few cores — there the 10-minute mix's master took 8.48–8.91 s held against 7.96–8.60
/// s through the page cache (bench/intermediate, two threads), and 8.13–8.67 s against 8.06–9.22
/// s with four (bench/RESULTS.md). A batch's files on one thread each go through files.
constexpr unsigned kHoldMinThreads = 4;
/// The trial reads the intermediate in blocks of this many frames (ChainSource's own size).
constexpr Frames kTrialReadFrames = 65536;

/// Holds the output on the render's device as it is written (Backend::makeResident, made at
/// begin() for the output's exact length; none when the device has no room) and passes every block
/// on to `next`: the intermediate for the trial on the device.
class ResidentTap final : public OutputTap {
public:
    ResidentTap(Backend& backend, OutputTap* next) : m_backend(backend), m_next(next) {}
    void begin(SampleRate rate, int channels, const ChannelLayout& layout, Frames length) override {
        m_audio = m_backend.makeResident(channels, length);
        if (m_next != nullptr) {
            m_next->begin(rate, channels, layout, length);
        }
    }
    void write(const AudioBuffer& block) override {
        if (m_audio) {
            m_audio->append(block);
        }
        if (m_next != nullptr) {
            m_next->write(block);
        }
    }
    void finish() override {
        if (m_audio) {
            m_audio->finish();
        }
        if (m_next != nullptr) {
            m_next->finish();
        }
    }
    /// The held audio once finish() has run (nullptr when the device had no room); the memory goes
    /// with it.
    std::unique_ptr<ResidentAudio> take() { return std::move(m_audio); }

private:
    Backend& m_backend;
    OutputTap* m_next;
    std::unique_ptr<ResidentAudio> m_audio;
};

/// The trial on the device over the intermediate it holds: the limiter `stage` as it would run
/// there, and its output's loudness as measure(·, false, threads, …) would take it (the same
/// kernels, calls and chunks; only the records come back). nullopt when the stage would not run on
/// the device.
std::optional<LoudnessResult> trialOnDevice(LimiterStage& stage, const ResidentAudio& audio, SampleRate rate,
                                            const ChannelLayout& layout, unsigned threads, Backend& backend,
                                            const std::string& name) {
    stage.prepare(StreamFormat{rate, audio.channels(), layout, 0}, kTrialReadFrames);
    const std::optional<LimiterTrialPass> pass = stage.backendPass();
    if (!pass) {
        return std::nullopt;
    }
    LoudnessParams params = LoudnessParams::forRate(rate);
    params.truePeak = false; // loudnessOptions(false, ·)
    const Backend::LoudnessFeed feed =
        backend.loudnessFeed(audio.channels(), params.stepFrames, detail::threadBudget(threads));
    const std::vector<ChunkRecords> records =
        backend.trialLoudness(audio, *pass, params, feed.chunkSteps * params.stepFrames);
    LoudnessResult r =
        loudnessFromRecords(params, channelWeights(layout, false, name), records, audio.frames());
    r.source = name;
    r.sampleRate = rate;
    r.channels = audio.channels();
    r.layout = layout;
    r.backend = std::string(backend.name());
    return r;
}

/// Removes a file when it goes out of scope (the pre-limiter intermediate).
struct RemoveOnExit {
    std::filesystem::path path;
    ~RemoveOnExit() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

/// `threads`: the master's budget (MasterSettings::threads, resolved) — a batch job's one thread
/// measures on one thread too. On the render's backend when it has loudness kernels (the CUDA
/// backend's records equal the reference's within 1e-9 relative: bench/RESULTS.md, H200), else
/// on the CPU reference (measureLoudness decides): the targeting needs loudness whichever renders.
LoudnessOptions loudnessOptions(bool truePeak, unsigned threads) {
    LoudnessOptions options;
    options.truePeak = truePeak;
    options.threads = threads;
    return options;
}

/// Whether a meter with `options` (a MasterAnalyses analysis's) gives the figures a targeted
/// pass's check reads from loudnessOptions(truePeak, ·): the same integrated loudness (no dual-mono
/// count, the backend's chunks) and, when the check needs it, the true peak.
bool sameMeasurement(const LoudnessOptions& options, bool truePeak) {
    return !options.dualMono && options.chunkSteps == 0 && (options.truePeak || !truePeak);
}

LoudnessResult measure(AudioSource& source, bool truePeak, unsigned threads, Backend& backend,
                       const JobControl& control) {
    return measureLoudness(source, loudnessOptions(truePeak, threads), backend, control);
}

LoudnessResult measureFile(const std::filesystem::path& file, bool truePeak, unsigned threads,
                           Backend& backend, const JobControl& control) {
    AudioReader reader(file);
    return measure(reader, truePeak, threads, backend, control);
}

/// The output's true peak as the limiter's verification measured it (×16), when the limiter is
/// the last stage and that figure decides (see LimiterStage::report).
std::optional<double> limiterTruePeak(const RenderReport& report) {
    if (report.stages.size() != 1 || !report.stages[0].details.contains("true_peak_dbtp") ||
        !report.stages[0].details["true_peak_dbtp"].is_number()) {
        return std::nullopt;
    }
    return report.stages[0].details["true_peak_dbtp"].get<double>();
}

} // namespace

std::optional<LoudnessTarget> presetTarget(const Preset& preset) {
    if (!preset.targetLufs) {
        return std::nullopt;
    }
    LoudnessTarget t;
    t.lufs = *preset.targetLufs;
    t.label = "target " + formatFixed(t.lufs, 1) + " LUFS (preset " + preset.name + ")";
    t.ceilingDbtp = -1.0;
    for (const PresetStage& st : preset.stages) {
        if (const auto* lim = std::get_if<LimiterSpec>(&st.spec); lim != nullptr && !st.bypass) {
            t.ceilingDbtp = lim->ceilingDbtp;
        }
    }
    return t;
}

namespace {

TargetingReport::RenderTimes timesOf(const RenderReport& r) {
    TargetingReport::RenderTimes t;
    t.decode = r.decodeSeconds;
    for (const StageRecord& st : r.stages) {
        t.stages += st.seconds;
    }
    t.output = r.outputSeconds;
    t.tap = r.tapSeconds;
    t.encode = r.encodeSeconds;
    t.setup = r.setupSeconds;
    t.drain = r.drainSeconds;
    t.readWait = r.readWaitSeconds;
    t.sinkWait = r.sinkWaitSeconds;
    t.writeWait = r.writeWaitSeconds;
    return t;
}

} // namespace

RenderReport masterFile(const std::filesystem::path& input, const std::filesystem::path& output,
                        const MasterSettings& settings, Backend& backend, const JobControl& control,
                        TargetingReport* targeting, MasterAnalyses* analyses) {
    const auto started = std::chrono::steady_clock::now();
    AudioReader reader(input, settings.reader);
    const RenderOptions options = resolveMasterOptions(reader.info(), output, settings);
    const unsigned threads = detail::threadBudget(settings.threads);
    const bool resample = settings.sampleRate && *settings.sampleRate != reader.info().sampleRate;
    // The analyses of the input and the output (MasterAnalyses): with the budget for it, the input
    // as the master reads it and the output as the kept render writes it, each on a thread of its
    // own; else both files read again at the end.
    const bool tapAnalyses = analyses != nullptr && threads >= kAnalysisTapMinThreads;
    std::optional<detail::AnalysisTap> beforeTap;
    std::optional<detail::TeeSource> teeInput;
    if (tapAnalyses && analyses->withInput) {
        beforeTap.emplace(input.string(), analyses->options, backend, control);
        teeInput.emplace(reader, *beforeTap);
    }
    AudioSource& source = teeInput ? static_cast<AudioSource&>(*teeInput) : reader;
    std::optional<detail::AnalysisTap> afterTap; // the output's (a targeted master: the kept pass's)
    auto newAfterTap = [&]() -> detail::AnalysisTap* {
        afterTap.reset(); // a dropped pass's: stopped
        if (!tapAnalyses) {
            return nullptr;
        }
        afterTap.emplace(output.string(), analyses->options, backend, control);
        return &*afterTap;
    };
    auto completeAnalyses = [&] {
        if (analyses == nullptr) {
            return;
        }
        const auto waiting = std::chrono::steady_clock::now();
        if (tapAnalyses) {
            if (teeInput) {
                teeInput->finish(); // read to its end already: the render has drained its source
                analyses->before = beforeTap->result(reader.info());
            }
            analyses->after = afterTap->result(AudioReader(output, analyses->options.loudness.reader).info());
        } else {
            if (analyses->withInput) {
                analyses->before = analyzeFile(input, analyses->options, backend, control);
            }
            analyses->after = analyzeFile(output, analyses->options, backend, control);
        }
        analyses->tapped = tapAnalyses;
        analyses->waitSeconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - waiting).count();
    };
    if (!settings.target) {
        std::vector<std::unique_ptr<Stage>> stages =
            buildStages(settings.preset, backend, threads, settings.designs.get());
        if (resample) {
            // Rate conversion first: every stage then works at the delivery rate, and a limiter's
            // ceiling is verified there (resampling after it could raise inter-sample peaks).
            stages.insert(stages.begin(), std::make_unique<ResampleStage>(*settings.sampleRate, threads));
        }
        RenderOptions o = options;
        o.tap = newAfterTap();
        const RenderReport report = render(source, std::move(stages), output, o, backend, control);
        completeAnalyses();
        return report;
    }
    ensureDistinctFiles(input, output);
    // The target is measured in loudness, which needs each channel's weight: a layout the meter
    // cannot weight (6 channels without a mask, no --layout) is refused now, naming the input —
    // not after the first render, naming the intermediate file.
    channelWeights(reader.info().layout, false, input.string());
    const LoudnessTarget& target = *settings.target;
    TargetingReport local;
    TargetingReport& t = targeting != nullptr ? *targeting : local;
    t = TargetingReport{};
    t.target = target;
    // The chain before its (last, enabled) limiter, the limiter, and what follows it.
    Preset before = settings.preset;
    Preset after = settings.preset;
    LimiterSpec limiter;
    std::ptrdiff_t at = -1;
    for (std::size_t i = 0; i < settings.preset.stages.size(); ++i) {
        const PresetStage& st = settings.preset.stages[i];
        if (!st.bypass && std::holds_alternative<LimiterSpec>(st.spec)) {
            at = static_cast<std::ptrdiff_t>(i);
        }
    }
    if (at >= 0) {
        limiter = std::get<LimiterSpec>(settings.preset.stages[static_cast<std::size_t>(at)].spec);
        before.stages.assign(settings.preset.stages.begin(), settings.preset.stages.begin() + at);
        after.stages.assign(settings.preset.stages.begin() + at + 1, settings.preset.stages.end());
    } else {
        after.stages.clear();
        t.note = "the preset has no limiter: one with default settings ends the chain";
    }
    limiter.ceilingDbtp = target.ceilingDbtp;
    // 1. The chain up to the limiter, once, held in memory when it fits (else into a float file
    //    beside the output); measured.
    const std::filesystem::path dir =
        output.parent_path().empty() ? std::filesystem::path(".") : output.parent_path();
    RemoveOnExit pre{
        dir / ("." + output.stem().string() + ".lathe-prelimiter." + std::to_string(::getpid()) + ".wav")};
    RenderOptions preOptions = options;
    preOptions.container = Container::Wav; // switches to RF64 by itself past 4 GiB
    preOptions.format = SampleFormat::Float32;
    preOptions.durable =
        false; // removed when the master is done: forcing it to disk costs 115 MB of writes per 10 min
    std::vector<std::unique_ptr<Stage>> preStages =
        buildStages(before, backend, threads, settings.designs.get());
    if (resample) { // first, as above: the limiter then works, and is verified, at the output rate
        preStages.insert(preStages.begin(), std::make_unique<ResampleStage>(*settings.sampleRate, threads));
    }
    auto since = [](std::chrono::steady_clock::time_point t0) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    // Loudness only: the true peak before the limiter decides nothing. Measured as it is written
    // (the file is not read again) when the budget leaves the meter a core.
    const bool tapped = threads >= kTapMinThreads;
    std::optional<detail::LoudnessTap> preTap;
    if (tapped) {
        preTap.emplace(pre.path.string(), loudnessOptions(false, threads), backend, control);
        preOptions.tap = &*preTap;
    }
    // With the trial to come (nothing after the limiter) on a device that can run it over audio
    // it holds, the intermediate goes there too as it is written: the trial then stays there.
    std::optional<ResidentTap> residentTap;
    if (after.stages.empty() && backend.supports(Capability::ResidentTrial) &&
        backend.supports(Capability::LimiterPass) && backend.supports(Capability::Loudness)) {
        preOptions.tap = &residentTap.emplace(backend, preOptions.tap);
    }
    const Frames programme = convertedFrames(reader.info().frames, reader.info().sampleRate,
                                             settings.sampleRate.value_or(reader.info().sampleRate));
    std::optional<detail::HeldAudio> held;
    if (threads >= kHoldMinThreads &&
        detail::floatBytes(programme, reader.info().channels) <=
            detail::intermediateMemoryBudget(settings.intermediateMemoryBytes)) {
        try {
            held.emplace(output.string() + " (the chain before its limiter, in memory)",
                         reader.info().channels, programme, preOptions.tap);
            preOptions.tap = &*held;
            preOptions.writeFile = false;
        } catch (const std::bad_alloc&) {
            held.reset(); // the address space is limited (ulimit -v): the file, then
        }
    }
    // The intermediate, from its first frame.
    auto openIntermediate = [&]() -> std::unique_ptr<AudioSource> {
        if (held) {
            return held->source();
        }
        return std::make_unique<AudioReader>(pre.path);
    };
    auto step = std::chrono::steady_clock::now();
    const RenderReport preReport =
        render(source, std::move(preStages), pre.path, preOptions, backend, control);
    if (teeInput) {
        teeInput->finish(); // the input's analysis goes on beside what follows
    }
    t.preLimiterRenderSeconds = since(step);
    t.preLimiterTimes = timesOf(preReport);
    t.intermediateInMemory = held.has_value();
    t.intermediateBytes = detail::floatBytes(preReport.outputFrames, preReport.channels);
    step = std::chrono::steady_clock::now();
    const LoudnessResult measured =
        tapped ? preTap->result() : measure(*openIntermediate(), false, threads, backend, control);
    t.preLimiterMeasureSeconds = since(step);
    if (!measured.integratedLufs) {
        throw AudioContentError(input.string(),
                                "cannot reach a loudness target: " +
                                    (measured.integratedNote.empty() ? std::string("the programme is silent")
                                                                     : measured.integratedNote));
    }
    t.preLimiterLufs = measured.integratedLufs;
    double gainDb = target.lufs - *measured.integratedLufs;
    if (gainDb > kTargetLargeGainDb) {
        t.note += std::string(t.note.empty() ? "" : "; ") + "reaching " + formatFixed(target.lufs, 1) +
                  " LUFS needs " + formatFixed(gainDb, 1) + " dB of gain: noise and hiss come up with it";
    }
    // 2. A trial (when nothing follows the limiter): the limiter alone at that drive, without
    //    verification, measured from memory — the loudness its limiting costs there is added to
    //    the first pass's drive, which then usually lands on target at once (the loss grows only a
    //    little with the extra drive). Costs about half a pass; saves one.
    if (after.stages.empty()) {
        step = std::chrono::steady_clock::now();
        LimiterSpec trialSpec = limiter;
        trialSpec.inputGainDb = gainDb;
        trialSpec.verify = false;
        // Its pass on the device, if it has one.
        auto trialStage = std::make_unique<LimiterStage>(trialSpec, threads, &backend);
        const std::unique_ptr<AudioSource> intermediate = openIntermediate();
        LoudnessResult tried;
        std::optional<LoudnessResult> onDevice;
        if (std::unique_ptr<ResidentAudio> resident = residentTap ? residentTap->take() : nullptr) {
            onDevice =
                trialOnDevice(*trialStage, *resident, intermediate->sampleRate(),
                              intermediate->channelLayout(), threads, backend, output.string() + " (trial)");
        } // the device memory goes back here: the passes do not read it
        if (onDevice) {
            tried = std::move(*onDevice);
        } else if (tapped) {
            // A render without a file: the intermediate read ahead, the limiter on this thread
            // and the meter (a tap) on its own, overlapping — the same samples as below (the
            // tails cut, as ChainSource cuts them), so the same figures to the bit.
            detail::LoudnessTap trialTap(output.string() + " (trial)", loudnessOptions(false, threads),
                                         backend, control);
            RenderOptions trialOptions;
            trialOptions.format = SampleFormat::Float32;
            trialOptions.tail = TailPolicy::Cut;
            trialOptions.threads = threads;
            trialOptions.writeFile = false;
            trialOptions.tap = &trialTap;
            std::vector<std::unique_ptr<Stage>> trialChain;
            trialChain.push_back(std::move(trialStage));
            render(*intermediate, std::move(trialChain), output, trialOptions, backend, control);
            tried = trialTap.result();
        } else {
            // The intermediate is a file here (held only from kHoldMinThreads on), decoded ahead
            // on a worker: the limiter's pass then overlaps its reading.
            detail::ReadAheadSource ahead(*intermediate, kTrialReadFrames);
            ChainSource trialSource(ahead, {trialStage.get()}, backend.hostMemory());
            tried = measure(trialSource, false, threads, backend, control);
        }
        if (tried.integratedLufs) {
            t.trial = TargetingReport::Trial{gainDb, *tried.integratedLufs, onDevice.has_value()};
            gainDb += target.lufs - *tried.integratedLufs;
        }
        t.trialSeconds = since(step);
    }
    // 3. Limiter passes on the intermediate until the output is on target. Each pass's file is
    //    measured under its temporary name, before it replaces anything: only a pass on target
    //    (or the last one, with a note) is kept, and a ceiling the limiter did not hold is an
    //    error, never a delivered file.
    struct RetryPass {}; // this pass missed the target; its file is dropped
    RenderReport last;
    std::string peakNote; // about the pass that is kept
    for (int pass = 0; pass < kTargetMaxPasses; ++pass) {
        const auto passStarted = std::chrono::steady_clock::now();
        limiter.inputGainDb = gainDb;
        PresetStage limiterStage;
        limiterStage.type = "limiter";
        limiterStage.spec = limiter;
        Preset chain = after;
        chain.stages.insert(chain.stages.begin(), limiterStage);
        std::vector<std::unique_ptr<Stage>> stages =
            buildStages(chain, backend, threads, settings.designs.get());
        const std::unique_ptr<AudioSource> intermediate = openIntermediate(); // at the output rate
        RenderOptions o = options;
        o.tail = TailPolicy::Keep; // the intermediate already has the length the tail policy gave it
        // The output's loudness, measured as it is written (the file's own samples) — with the
        // true peak only when stages follow the limiter (its ×16 verification decides otherwise).
        // With its analysis (MasterAnalyses) tapped too, the analysis's measurement is the check's
        // when it measures what this meter would: one meter over the output, not two.
        detail::AnalysisTap* analysis = newAfterTap();
        const bool analysisMeasures =
            analysis != nullptr && sameMeasurement(analyses->options.loudness, !after.stages.empty());
        std::optional<detail::LoudnessTap> tap;
        if (tapped && !analysisMeasures) {
            tap.emplace(output.string(), loudnessOptions(!after.stages.empty(), threads), backend, control);
            o.tap = &*tap;
        }
        std::optional<detail::TeeTap> both;
        if (analysis != nullptr) {
            o.tap = o.tap != nullptr ? static_cast<OutputTap*>(&both.emplace(*o.tap, *analysis)) : analysis;
        }
        const bool lastChance = pass + 1 == kTargetMaxPasses;
        auto check = [&](const std::filesystem::path& temporary, const RenderReport& soFar) {
            // The true peak is the limiter's own ×16 verification of what it wrote when nothing
            // follows it (the meter's full measurement otherwise, or when everything lies 3 dB
            // or more below the ceiling: then the file is read again for it).
            std::optional<double> peak = limiterTruePeak(soFar);
            const bool tapSuffices = tapped && (peak.has_value() || !after.stages.empty());
            const auto measuring = std::chrono::steady_clock::now();
            auto readFile = [&] {
                return measureFile(temporary, !peak.has_value(), threads, backend, control);
            };
            auto tappedLoudness = [&]() -> LoudnessResult {
                if (!analysisMeasures) {
                    return tap->result();
                }
                try {
                    return analysis->loudness();
                } catch (const CancelledError&) {
                    throw;
                } catch (...) {
                    // The analysis failed: its error is thrown once the output is in place
                    // (completeAnalyses, as MasterAnalyses promises); the check reads the file.
                    return readFile();
                }
            };
            const LoudnessResult got = tapSuffices ? tappedLoudness() : readFile();
            if (!peak && got.truePeakDbtp) {
                peak = got.truePeakDbtp->value;
            }
            TargetingReport::Pass p;
            p.seconds = since(passStarted);
            p.times = timesOf(soFar);
            p.measureSeconds = since(measuring);
            p.inputGainDb = gainDb;
            p.lufs = got.integratedLufs;
            p.truePeakDbtp = peak;
            t.passes.push_back(p);
            if (peak && *peak > target.ceilingDbtp + kCeilingCheckDb) {
                if (after.stages.empty()) {
                    throw AudioContentError(output,
                                            "the output's true peak reads " + formatFixed(*peak, 2) +
                                                " dBTP, above the " + formatFixed(target.ceilingDbtp, 1) +
                                                " dBTP ceiling the limiter must hold; nothing was written "
                                                "(a bug in Lathe: please report it with the input)");
                }
                peakNote = "the stages after the limiter raise the true peak to " + formatFixed(*peak, 2) +
                           " dBTP, above the " + formatFixed(target.ceilingDbtp, 1) + " dBTP ceiling";
            } else {
                peakNote.clear();
            }
            if (!got.integratedLufs) {
                return; // kept: nothing to correct
            }
            const double miss = target.lufs - *got.integratedLufs;
            if (std::abs(miss) <= kTargetToleranceLu) {
                t.reached = true;
                return;
            }
            gainDb += miss;
            if (!lastChance) {
                throw RetryPass{};
            }
        };
        try {
            last = render(*intermediate, std::move(stages), output, o, backend, control, check);
        } catch (const RetryPass&) {
            continue;
        }
        break;
    }
    if (!peakNote.empty()) {
        t.note += std::string(t.note.empty() ? "" : "; ") + peakNote;
    }
    if (!t.reached && !t.passes.empty() && t.passes.back().lufs) {
        t.note +=
            std::string(t.note.empty() ? "" : "; ") +
            "target not reached: " + formatFixed(*t.passes.back().lufs, 2) + " LUFS after " +
            std::to_string(t.passes.size()) + " passes" +
            (gainDb >= 0.0 ? " (the limiter would need more than " + formatFixed(gainDb, 1) + " dB of drive)"
                           : " (the input's peaks are so far above its loudness that limiting them to the "
                             "ceiling leaves it quieter than the target)");
    }
    // One report for the whole chain: the stages before the limiter (rendered once) and the
    // statistics of the real input come from the first render.
    last.source = input.string();
    last.stages.insert(last.stages.begin(), preReport.stages.begin(), preReport.stages.end());
    last.latencyFrames += preReport.latencyFrames;
    last.decodeSeconds += preReport.decodeSeconds;
    last.encodeSeconds += preReport.encodeSeconds;
    last.outputSeconds += preReport.outputSeconds;
    last.tapSeconds += preReport.tapSeconds;
    last.inputRate = preReport.inputRate;
    last.inputFrames = preReport.inputFrames;
    last.inputStats = preReport.inputStats;
    // The whole job's wall time (the renders, the trial and every measurement), as a user times it.
    last.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    for (const auto& w : preReport.warnings) {
        last.warnings.insert(last.warnings.begin(), w);
    }
    if (!t.note.empty()) {
        last.warnings.push_back("loudness target: " + t.note);
    }
    completeAnalyses();
    return last;
}

} // namespace lathe
