// SPDX-License-Identifier: GPL-3.0-or-later
#include "Commands.h"

#include "ExitCodes.h"
#include "ProgressPrinter.h"

#include <lathe/Analysis.h>
#include <lathe/Batch.h>
#include <lathe/ChannelStats.h>
#include <lathe/CodecPreview.h>
#include <lathe/Error.h>
#include <lathe/FileOutput.h>
#include <lathe/HtmlReport.h>
#include <lathe/Inspect.h>
#include <lathe/JsonReport.h>
#include <lathe/Loudness.h>
#include <lathe/Master.h>
#include <lathe/Platforms.h>
#include <lathe/Preset.h>
#include <lathe/Speakers.h>
#include <lathe/Text.h>
#include <lathe/Translation.h>
#include <lathe/design/Rooms.h>
#include <lathe/gpu/Gpu.h>
#include <lathe/signals/DemoMix.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <sys/resource.h>
#include <thread>
#include <utility>

namespace lathe::cli {
namespace {

// Test hooks (tests/cli): environment variables read only here, never by the engine.
//   LATHE_TEST_FAIL_WRITE_AFTER_BYTES=N  the writer fails with ENOSPC after N bytes (disk full)
//   LATHE_TEST_BLOCK_DELAY_MS=N          sleep N ms after each block (to interrupt a render mid-way)
WriterFaults faultsFromEnvironment() {
    WriterFaults f;
    if (const char* v = std::getenv("LATHE_TEST_FAIL_WRITE_AFTER_BYTES")) {
        f.failAfterBytes = std::strtoull(v, nullptr, 10);
    }
    return f;
}

int blockDelayMs() {
    const char* v = std::getenv("LATHE_TEST_BLOCK_DELAY_MS");
    return v != nullptr ? std::atoi(v) : 0;
}

void note(const GlobalOptions& g, const std::string& line) {
    if (!g.quiet) {
        std::fprintf(stderr, "lathe: %s\n", line.c_str());
    }
}

BackendRegistry::Selection selectBackend(const GlobalOptions& g, Capability needed = Capability::Render) {
    BackendRegistry::Selection sel = g.registry->select(g.backend, needed);
    note(g, "backend " + std::string(sel.backend->name()) + " — " + sel.reason);
    return sel;
}

JobControl makeControl(const GlobalOptions& g, ProgressPrinter& printer) {
    JobControl control;
    control.cancel = g.cancel;
    const int delay = blockDelayMs();
    control.progress = [&printer, delay](const Progress& p) {
        printer.update(p);
        if (delay > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        }
    };
    return control;
}

/// Why the backend that ran was chosen (backend_reason), the device's share of the command's
/// work (device_timing, CUDA events; a CPU backend has none): with the reports' decode_seconds and
/// encode_seconds, where the time of a GPU job went — and the most host memory the process has
/// held so far (peak_memory_bytes: its largest resident set, libraries and buffers included; a
/// render's stays O(block) whatever the length, a targeted master's adds its intermediate when
/// held in memory, an analysis its history).
void addBackendFacts(nlohmann::json& j, const BackendRegistry::Selection& sel) {
    j["backend_reason"] = sel.reason;
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) == 0) {
        j["peak_memory_bytes"] = static_cast<std::int64_t>(usage.ru_maxrss) * 1024; // Linux: KiB
    }
    if (const std::optional<DeviceTiming> t = sel.backend->deviceTiming()) {
        j["device_timing"] = {{"host_to_device_seconds", t->hostToDeviceSeconds},
                              {"kernel_seconds", t->kernelSeconds},
                              {"device_to_host_seconds", t->deviceToHostSeconds},
                              {"host_to_device_bytes", t->hostToDeviceBytes},
                              {"device_to_host_bytes", t->deviceToHostBytes},
                              {"peak_buffer_bytes", t->peakBufferBytes},
                              {"peak_pinned_bytes", t->peakPinnedBytes}};
    }
}

/// Runs `job(backend, control)` with a progress line. A GPU failure mid-job leaves nothing behind
/// (outputs are committed atomically); under --backend auto the user asked for a result, not for a
/// GPU, so the job runs again on the CPU, saying so on stderr and in `sel.reason` (the reports'
/// backend_reason). With an explicit --backend cuda the error stands (exit 6).
template <typename Job>
auto runWithCpuFallback(const GlobalOptions& g, BackendRegistry::Selection& sel, const std::string& label,
                        Job job) {
    std::optional<ProgressPrinter> printer;
    printer.emplace(label, !g.quiet);
    auto r = runWithCpuRerun(
        sel, g.backend == "auto", [&](Backend& b) { return job(b, makeControl(g, *printer)); },
        [&](const GpuError& e) {
            printer->finish();
            note(g, std::string("the GPU failed (") + e.what() + "); running again on the CPU");
            printer.emplace(label + " (cpu)", !g.quiet);
        });
    printer->finish();
    return r;
}

AudioReader::Options readerOptions(bool strict, const std::string& layout) {
    AudioReader::Options r;
    r.strict = strict;
    if (!layout.empty()) {
        r.layout = parseChannelLayout(layout);
    }
    return r;
}

void printInspection(const FileInspection& x) {
    const AudioFileInfo& i = x.info;
    std::cout << i.path.string() << "\n";
    std::cout << "  format       " << i.formatDescription << ", " << encodingName(i.encoding) << "\n";
    std::cout << "  sample rate  " << i.sampleRate << " Hz\n";
    std::cout << "  channels     " << i.channels << " (" << i.layout.name() << ")\n";
    std::cout << "  duration     " << formatDuration(i.durationSeconds()) << " (" << i.frames << " frames)\n";
    std::cout << "  peak         " << formatDb(amplitudeToDb(peakOf(x.stats))) << "\n";
    for (std::size_t c = 0; c < x.stats.size(); ++c) {
        const auto& s = x.stats[c];
        const Speaker sp = c < i.layout.speakers.size() ? i.layout.speakers[c] : Speaker::Unknown;
        std::cout << "    ch " << (c + 1) << " " << speakerLabel(sp) << "  peak "
                  << formatDb(amplitudeToDb(s.peakAbs));
        if (s.peakFrame >= 0) {
            std::cout << " at " << formatDuration(framesToSeconds(s.peakFrame, i.sampleRate));
        }
        if (s.finiteCount > 0) {
            std::cout << ", rms "
                      << formatDb(10.0 * std::log10(s.sumSquares / static_cast<double>(s.finiteCount)));
        }
        std::cout << "\n";
    }
    for (const auto& w : x.warnings) {
        std::cout << "  warning      " << w << "\n";
    }
}

/// One JSON document per file: indented when there is one file, one line each when there are
/// several (so a stream of them splits on newlines).
void printFileJson(const nlohmann::json& j, std::size_t fileCount) {
    std::cout << (fileCount == 1 ? j.dump(2) : j.dump()) << "\n";
}

/// A file of a multi-file command failed: one line on stderr, and its place in the JSON stream.
void reportFileError(const Error& e, const std::filesystem::path& file, bool json, std::size_t fileCount) {
    std::fprintf(stderr, "lathe: error: %s\n", e.what());
    if (json) {
        printFileJson(nlohmann::json{{"file", file.string()}, {"error", e.what()}}, fileCount);
    }
}

/// What an available backend runs (Backend::supports) and what it leaves to the CPU, by name;
/// both empty for an unavailable one. One backend is made for both (a CUDA context each time).
struct BackendCapabilities {
    std::vector<std::string> runs;
    std::vector<std::string> leaves;
};
BackendCapabilities capabilitiesOf(const GlobalOptions& g, const BackendStatus& s) {
    BackendCapabilities names;
    if (!s.available) {
        return names;
    }
    const auto backend = g.registry->makeBackend(s.name);
    for (const Capability c : kCapabilities) {
        (backend->supports(c) ? names.runs : names.leaves).emplace_back(capabilityName(c));
    }
    return names;
}

int printDevices(const GlobalOptions& g, bool json) {
    const auto statuses = g.registry->availableBackends();
    const gpu::ProbeResult& p = gpu::probe();
    if (json) {
        nlohmann::json j;
        j["backends"] = nlohmann::json::array();
        for (const auto& s : statuses) {
            nlohmann::json b = toJson(s);
            b["capabilities"] = capabilitiesOf(g, s).runs;
            j["backends"].push_back(b);
        }
        nlohmann::json cuda;
        cuda["compiled"] = p.compiled;
        cuda["available"] = p.available;
        cuda["reason"] = p.available ? nlohmann::json() : nlohmann::json(p.reason);
        cuda["runtime_version"] =
            p.runtimeVersion > 0 ? nlohmann::json(gpu::cudaVersionText(p.runtimeVersion)) : nlohmann::json();
        cuda["driver_version"] =
            p.driverVersion > 0 ? nlohmann::json(gpu::cudaVersionText(p.driverVersion)) : nlohmann::json();
        cuda["devices"] = nlohmann::json::array();
        for (const auto& d : p.devices) {
            cuda["devices"].push_back({{"index", d.index},
                                       {"name", d.name},
                                       {"compute_capability", std::to_string(d.computeMajor) + "." +
                                                                  std::to_string(d.computeMinor)},
                                       {"memory_bytes", d.totalMemoryBytes},
                                       {"free_memory_bytes", d.freeMemoryBytes},
                                       {"multiprocessors", d.multiprocessors}});
        }
        j["cuda"] = cuda;
        std::cout << j.dump(2) << "\n";
        return kExitOk;
    }
    std::cout << "Compute backends (--backend auto takes the first available):\n";
    for (const auto& s : statuses) {
        std::printf("  %-5s %s\n", s.name.c_str(),
                    (s.available ? "available: " + s.description : "unavailable: " + s.reason).c_str());
        if (s.available && s.name != "cpu") { // the CPU runs everything (it is the reference)
            const BackendCapabilities caps = capabilitiesOf(g, s);
            auto joined = [](const std::vector<std::string>& names) {
                std::string text;
                for (const auto& n : names) {
                    text += (text.empty() ? "" : ", ") + n;
                }
                return text;
            };
            std::printf("        runs %s; everything else on the CPU\n", joined(caps.runs).c_str());
            // What the user's LATHE_CUDA_HOLD leaves to the CPU (CudaBackend::supports): say so.
            if (!caps.leaves.empty()) {
                std::printf("        left to the CPU by LATHE_CUDA_HOLD: %s\n", joined(caps.leaves).c_str());
            }
        }
    }
    if (p.compiled) {
        std::cout << "CUDA runtime " << gpu::cudaVersionText(p.runtimeVersion) << ", driver "
                  << (p.driverVersion > 0 ? gpu::cudaVersionText(p.driverVersion)
                                          : std::string("not installed"))
                  << "\n";
    }
    for (const auto& d : p.devices) {
        std::cout << "  device " << d.index << ": " << d.name << ", compute capability " << d.computeMajor
                  << "." << d.computeMinor << ", " << formatBytes(static_cast<double>(d.totalMemoryBytes))
                  << " (" << formatBytes(static_cast<double>(d.freeMemoryBytes)) << " free), "
                  << d.multiprocessors << " SMs\n";
    }
    return kExitOk;
}

void printRender(const RenderReport& r) {
    std::cerr << "lathe: wrote " << r.output.string() << " (" << containerName(r.container) << ", "
              << sampleFormatName(r.format) << "-bit, " << r.outputRate << " Hz, " << r.channels << " ch, "
              << formatDuration(framesToSeconds(r.outputFrames, r.outputRate)) << ") in "
              << formatFixed(r.seconds, 2) << " s";
    if (r.seconds > 0) {
        std::cerr << " (" << formatFixed(framesToSeconds(r.inputFrames, r.inputRate) / r.seconds, 0)
                  << "x real time)";
    }
    std::cerr << "\nlathe: dither: " << r.ditherReason << "\n";
    for (const auto& w : r.warnings) {
        std::cerr << "lathe: warning: " << w << "\n";
    }
}

SampleRate checkedRate(int rate, const char* option) {
    if (rate < kMinSampleRate || rate > kMaxSampleRate) {
        throw UsageError(std::string(option) + " " + std::to_string(rate) + " is outside " +
                         std::to_string(kMinSampleRate) + "–" + std::to_string(kMaxSampleRate) + " Hz");
    }
    return rate;
}

DitherMode parseDither(const std::string& s) {
    if (s == "auto") {
        return DitherMode::Auto;
    }
    if (s == "tpdf" || s == "on") {
        return DitherMode::Tpdf;
    }
    if (s == "off" || s == "none") {
        return DitherMode::Off;
    }
    if (s == "shaped") {
        return DitherMode::Shaped;
    }
    throw UsageError("unknown dither mode '" + s + "' (use auto, tpdf, shaped or off)");
}

std::string level(const std::optional<double>& v, const char* unit) {
    return v ? formatFixed(*v, 1) + " " + unit : std::string("—");
}

std::string atTime(const std::optional<TimedLevel>& t) {
    return t ? " at " + formatDuration(t->atSeconds) : std::string();
}

void printLoudness(const LoudnessResult& r, const std::vector<PlatformPreview>* previews) {
    std::cout << r.source << "  (" << r.sampleRate << " Hz, " << r.channels << " ch " << r.layout.name()
              << ", " << formatDuration(r.durationSeconds) << ")\n";
    std::cout << "  integrated       " << level(r.integratedLufs, "LUFS");
    if (r.integratedLufs) {
        std::cout << "   (relative gate " << formatFixed(*r.relativeGateLufs, 1) << " LUFS)";
    } else {
        std::cout << "   " << r.integratedNote;
    }
    std::cout << "\n  loudness range   " << (r.lraLu ? formatFixed(*r.lraLu, 1) + " LU" : std::string("—"));
    if (r.lraLu) {
        std::cout << "     (" << formatFixed(*r.lraLowLufs, 1) << " … " << formatFixed(*r.lraHighLufs, 1)
                  << " LUFS)";
    } else {
        std::cout << "   " << r.lraNote;
    }
    std::cout << "\n  true peak        "
              << (r.truePeakDbtp ? formatFixed(r.truePeakDbtp->value, 2) + " dBTP"
                                 : std::string("— (silence)"))
              << atTime(r.truePeakDbtp);
    if (r.truePeakChannel >= 0) {
        std::cout << " (ch " << r.truePeakChannel + 1 << " "
                  << speakerLabel(r.layout.speakers[static_cast<std::size_t>(r.truePeakChannel)]) << ")";
    }
    std::cout << "\n  sample peak      "
              << (r.samplePeakDbfs ? formatFixed(r.samplePeakDbfs->value, 2) + " dBFS" : std::string("—"));
    std::cout << "\n  max momentary    "
              << (r.maxMomentaryLufs ? formatFixed(r.maxMomentaryLufs->value, 1) + " LUFS" : std::string("—"))
              << atTime(r.maxMomentaryLufs);
    std::cout << "\n  max short-term   "
              << (r.maxShortTermLufs ? formatFixed(r.maxShortTermLufs->value, 1) + " LUFS" : std::string("—"))
              << atTime(r.maxShortTermLufs);
    std::cout << "\n  PLR " << level(r.plrDb, "dB") << ", PSR " << level(r.psrDb, "dB") << "\n";
    if (previews != nullptr) {
        std::cout << "  platform                         gain     heard     true peak\n";
        for (const auto& p : *previews) {
            char line[256];
            std::snprintf(line, sizeof line, "  %-30s %7s  %9s  %11s%s  %s\n", p.name.c_str(),
                          p.gainDb ? (formatFixed(*p.gainDb, 1) + " dB").c_str() : "—",
                          p.loudnessLufs ? (formatFixed(*p.loudnessLufs, 1) + " LUFS").c_str() : "—",
                          p.truePeakDbtp ? (formatFixed(*p.truePeakDbtp, 1) + " dBTP").c_str() : "—",
                          p.truePeakOk && !*p.truePeakOk ? " (over)" : "", p.note.c_str());
            std::cout << line;
        }
    }
}

std::vector<Platform> loadPlatformTable(const std::filesystem::path& file) {
    if (file.empty()) {
        return builtinPlatforms();
    }
    std::ifstream in(file);
    if (!in) {
        throw InputError(file, "cannot open the platform table");
    }
    std::stringstream text;
    text << in.rdbuf();
    return parsePlatforms(text.str(), file.string());
}

} // namespace

namespace {

/// What the reader noticed about the file (truncated, a header that lies, …): analysed anyway.
void printFileWarnings(const AudioFileInfo& file) {
    for (const std::string& w : file.warnings) {
        std::cout << "  warning          " << w << "\n";
    }
}

void printFindings(const AnalysisResult& a) {
    if (!a.spectral) {
        return;
    }
    if (a.loudness.channels == 2 && a.stereo.correlation) {
        std::cout << "  stereo           correlation " << formatFixed(*a.stereo.correlation, 2)
                  << ", mono fold " << level(a.stereo.monoLossLu, "LU") << ", balance "
                  << level(a.stereo.balanceDb, "dB") << "\n";
    }
    if (a.findings.empty()) {
        std::cout << "  mix readiness    nothing to fix\n";
    }
    for (const Finding& f : a.findings) {
        std::cout << "  " << severityName(f.severity) << ": " << f.title << " — " << f.message << "\n";
    }
}

/// --target: a loudness ("-14", "-14LUFS") or a platform id from the table.
std::pair<double, std::string> parseTarget(const std::string& text, const std::vector<Platform>& table) {
    for (const Platform& p : table) {
        if (p.id == text && p.targetLufs) {
            return {*p.targetLufs, "target " + formatFixed(*p.targetLufs, 1) + " LUFS (" + p.name + ")"};
        }
    }
    std::string t = toLower(text);
    if (t.size() > 4 && t.substr(t.size() - 4) == "lufs") {
        t.resize(t.size() - 4);
    }
    try {
        std::size_t used = 0;
        const double v = std::stod(t, &used);
        if (used == t.size() && v < 0.0 && v > -60.0) {
            return {v, "target " + formatFixed(v, 1) + " LUFS"};
        }
    } catch (const std::exception&) {
    }
    throw UsageError("--target '" + text + "' is neither a loudness (e.g. -14 or -14LUFS) nor a platform id");
}

} // namespace

namespace {

void printTranslation(const TranslationResult& t) {
    std::cout << t.source << ": programme " << formatFixed(t.programmeLufs, 1)
              << " LUFS; each model level-matched to the monitors\n";
    std::printf("  %-26s %9s %16s %9s %8s %8s %10s\n", "model", "loudness", "lost bass", "1-4 kHz", "balance",
                "driver", "mono loss");
    for (const auto& m : t.models) {
        const std::string bass =
            formatFixed(m.lostBassPercent, 0) + " %" +
            (m.bassLimitHz ? " <" + formatFixed(*m.bassLimitHz, 0) + " Hz" : std::string());
        std::printf("  %-26s %6s LU %16s %9s %8s %6s %% %10s\n", m.name.c_str(),
                    formatFixed(m.loudnessDifferenceLu, 1).c_str(), bass.c_str(),
                    m.presenceBalanceDb ? (formatFixed(*m.presenceBalanceDb, 1) + " dB").c_str() : "-",
                    formatFixed(m.balanceScore, 0).c_str(), formatFixed(m.driverActivePercent, 0).c_str(),
                    m.monoLossDb
                        ? (formatFixed(*m.monoLossDb, 1) + " dB" + (m.monoProblem ? "!" : "")).c_str()
                        : "-");
    }
    for (const auto& m : t.models) {
        std::cout << "  " << m.name << ": " << m.verdict << "\n";
    }
    for (const auto& w : t.warnings) {
        std::cout << "  warning: " << w << "\n";
    }
}

/// The codec table and the platforms that stream through a codec.
void printCodecs(const CodecPreviewResult& r) {
    std::printf("  %-22s %9s %12s %10s %9s %10s\n", "codec", "loudness", "true peak", "TP change", "overs",
                "bandwidth");
    for (const auto& c : r.codecs) {
        std::printf("  %-22s %6s LU %7s dBTP %7s dB %9lld %10s\n", c.codec.name.c_str(),
                    formatFixed(c.loudnessChangeLu, 2).c_str(),
                    c.decoded.truePeakDbtp ? formatFixed(c.decoded.truePeakDbtp->value, 2).c_str() : "-",
                    formatFixed(c.truePeakChangeDb, 2).c_str(),
                    static_cast<long long>(c.samplesOverFullScale),
                    c.bandwidthHz ? (formatFixed(*c.bandwidthHz / 1000.0, 1) + " kHz").c_str() : "full");
    }
    std::cout << "  platforms (after their playback gain):\n";
    for (const auto& p : r.platforms) {
        if (p.codecId.empty()) {
            continue;
        }
        std::cout << "    " << p.preview.name << " (" << p.codecId << "): gain "
                  << (p.preview.gainDb ? formatFixed(*p.preview.gainDb, 1) + " dB" : std::string("0 dB"))
                  << ", true peak after decode "
                  << (p.postCodecTruePeakDbtp ? formatFixed(*p.postCodecTruePeakDbtp, 2) + " dBTP"
                                              : std::string("-"))
                  << (p.postCodecTruePeakOk && !*p.postCodecTruePeakOk ? " (over the platform's advice)" : "")
                  << (p.clipsAfterDecode ? ", CLIPS after decode" : "") << "\n";
    }
}

} // namespace

int runAnalyze(const GlobalOptions& g, const AnalyzeOptions& o) {
    if (o.files.empty()) {
        throw UsageError("analyze needs at least one file");
    }
    if ((!o.html.empty() || !o.compare.empty()) && o.files.size() != 1) {
        throw UsageError("--html and --compare take one input file");
    }
    if (o.loudnessOnly && (!o.html.empty() || !o.compare.empty())) {
        throw UsageError("--loudness-only leaves out what --html and --compare show");
    }
    if (o.smoothing != 0 && o.smoothing != 1 && o.smoothing != 3 && o.smoothing != 6 && o.smoothing != 12 &&
        o.smoothing != 24) {
        throw UsageError("--smoothing takes 1, 3, 6, 12 or 24 (1/N octave), or 0 for none");
    }
    const bool wantPlatforms = o.platforms || !o.platformsFile.empty() || !o.html.empty();
    const std::vector<Platform> table = loadPlatformTable(o.platformsFile);
    const std::vector<Platform> platforms = wantPlatforms ? table : std::vector<Platform>{};
    const auto [targetLufs, targetLabel] = parseTarget(o.target, table);
    if (!o.html.empty()) {
        ensureDistinctFiles(o.files.front(), o.html);
        if (!o.compare.empty()) {
            ensureDistinctFiles(o.compare, o.html);
        }
        checkWritable(o.html); // before the analysis, not after it
    }
    AnalysisOptions options;
    options.loudness.dualMono = o.dualMono;
    options.loudness.reader = readerOptions(o.strict, o.layout);
    options.spectral = !o.loudnessOnly;
    options.smoothingFraction = o.smoothing;
    auto sel = selectBackend(g, Capability::Loudness);
    std::optional<BackendRegistry::Selection> translationSel; // chosen when first needed (--speakers)
    auto analyzeOne = [&](const std::filesystem::path& file) {
        ProgressPrinter printer("analyze " + file.filename().string(), !g.quiet);
        AnalysisResult a = analyzeFile(file, options, *sel.backend, makeControl(g, printer));
        printer.finish();
        return a;
    };

    std::vector<LoudnessResult> results;
    int rc = kExitOk;
    for (const auto& file : o.files) {
        try {
            const AnalysisResult a = analyzeOne(file);
            std::optional<AnalysisResult> b;
            if (!o.compare.empty()) {
                b = analyzeOne(o.compare);
            }
            const auto previews = previewPlatforms(a.loudness, platforms);
            std::optional<TranslationResult> translation;
            std::optional<TranslationResult> translationB;
            if (!o.speakers.empty()) {
                if (!translationSel) {
                    translationSel = selectBackend(g, Capability::Convolution);
                }
                TranslationOptions to;
                to.models = selectSpeakers(o.speakers);
                to.reader = options.loudness.reader;
                ProgressPrinter printer("speakers " + file.filename().string(), !g.quiet);
                translation = measureTranslation(file, to, *translationSel->backend, makeControl(g, printer));
                if (b) {
                    translationB =
                        measureTranslation(o.compare, to, *translationSel->backend, makeControl(g, printer));
                }
                printer.finish();
            }
            std::optional<CodecPreviewResult> codecs;
            if (o.codecs) {
                ProgressPrinter printer("codecs " + file.filename().string(), !g.quiet);
                CodecPreviewOptions co;
                co.reader = options.loudness.reader;
                codecs = previewCodecs(file, co, *sel.backend, makeControl(g, printer));
                printer.finish();
            }
            if (o.json) {
                auto j = toJson(a, o.history);
                if (!platforms.empty()) {
                    j["platforms"] = toJson(previews);
                }
                if (codecs) {
                    j["codecs"] = toJson(*codecs);
                }
                if (translation) {
                    j["translation"] = translationB ? translationComparisonJson(*translation, *translationB)
                                                    : toJson(*translation);
                }
                if (b) {
                    j["compare"] = toJson(*b, o.history);
                    if (a.spectral) {
                        const auto hz = displayFrequencies(a.spectrum.sampleRate);
                        const SpectrumComparison cmp =
                            compareSpectra(a.spectrum, b->spectrum, o.smoothing, hz);
                        nlohmann::json diff = nlohmann::json::array();
                        for (std::size_t i = 0; i < hz.size(); ++i) {
                            diff.push_back(dbOrNull(cmp.afterDb[i] - cmp.beforeDb[i]));
                        }
                        j["compare"]["spectrum_difference_db"] = diff;
                    }
                }
                addBackendFacts(j, sel);
                printFileJson(j, o.files.size());
            } else {
                printLoudness(a.loudness, platforms.empty() ? nullptr : &previews);
                if (codecs) {
                    printCodecs(*codecs);
                }
                if (translation) {
                    printTranslation(*translation);
                }
                if (translationB) {
                    printTranslation(*translationB);
                }
                printFileWarnings(a.file);
                printFindings(a);
                if (b) {
                    printLoudness(b->loudness, nullptr);
                    printFileWarnings(b->file);
                    printFindings(*b);
                }
            }
            if (!o.html.empty()) {
                HtmlReportInput in;
                in.result = &a;
                in.compare = b ? &*b : nullptr;
                in.platforms = previews;
                in.codecs = codecs ? &*codecs : nullptr;
                in.translation = translation ? &*translation : nullptr;
                in.translationCompare = translationB ? &*translationB : nullptr;
                in.targetLufs = targetLufs;
                in.targetLabel = targetLabel;
                in.backend = std::string(sel.backend->name()) + " — " + sel.reason;
                in.parameters.push_back(
                    {"options", std::string(o.dualMono ? "dual mono; " : "") +
                                    (o.layout.empty() ? "" : "layout " + o.layout + "; ") + "smoothing 1/" +
                                    std::to_string(o.smoothing) + " octave"});
                writeFileAtomically(o.html, renderHtmlReport(in));
                note(g, "wrote " + o.html.string());
            }
            results.push_back(a.loudness);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::AudioContent &&
                e.kind() != ErrorKind::Usage) {
                throw;
            }
            reportFileError(e, file, o.json, o.files.size());
            rc = rc == kExitOk ? exitCodeFor(e.kind()) : rc;
        }
    }
    if (o.files.size() > 1 && !results.empty()) {
        const AlbumLoudness album = albumLoudness(results);
        if (o.json) {
            std::cout << nlohmann::json{{"album",
                                         {{"files", results.size()},
                                          {"integrated_lufs", dbOrNull(album.integratedLufs)},
                                          {"note", album.note.empty() ? nlohmann::json()
                                                                      : nlohmann::json(album.note)}}}}
                             .dump()
                      << "\n";
        } else {
            std::cout << "album (" << results.size() << " files): integrated "
                      << level(album.integratedLufs, "LUFS") << (album.note.empty() ? "" : "  " + album.note)
                      << "\n";
        }
    }
    return rc;
}

int runInfo(const GlobalOptions& g, const InfoOptions& o) {
    if (o.devices) {
        const int rc = printDevices(g, o.json && o.files.empty());
        if (o.files.empty()) {
            return rc;
        }
    }
    if (o.files.empty()) {
        throw UsageError("info needs at least one file (or --devices)");
    }
    const auto reader = readerOptions(o.strict, o.layout);
    std::unique_ptr<Backend> backend = g.registry->select(g.backend).backend;
    int rc = kExitOk;
    for (const auto& file : o.files) {
        try {
            ProgressPrinter printer("inspect " + file.filename().string(), !g.quiet && o.files.size() == 1);
            const FileInspection x = inspectFile(file, reader, *backend, makeControl(g, printer));
            printer.finish();
            if (o.json) {
                printFileJson(toJson(x), o.files.size());
            } else {
                printInspection(x);
            }
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Usage) {
                throw; // cancellation, device failures: stop the whole command
            }
            reportFileError(e, file, o.json, o.files.size());
            rc = exitCodeFor(e.kind());
        }
    }
    return rc;
}

namespace {

/// RenderFlags into ConvertSettings or MasterSettings (the same fields).
template <typename Settings> void applyRenderFlags(const RenderFlags& f, Settings& s) {
    if (f.rate) {
        s.sampleRate = checkedRate(*f.rate, "--rate");
    }
    if (!f.bits.empty()) {
        s.format = parseSampleFormat(f.bits);
    }
    if (!f.format.empty()) {
        s.container = parseOutputContainer(f.format);
    }
    s.dither = parseDither(f.dither);
    if (f.seed) {
        s.ditherSeed = *f.seed;
    }
    s.nonFinite = f.sanitize ? NonFinitePolicy::Sanitize : NonFinitePolicy::Error;
    s.reader = readerOptions(f.strict, f.layout);
    s.faults = faultsFromEnvironment();
}

} // namespace

int runConvert(const GlobalOptions& g, const ConvertOptions& o) {
    ConvertSettings s;
    applyRenderFlags(o.flags, s);

    auto sel = selectBackend(g);
    const RenderReport r = runWithCpuFallback(
        g, sel, "convert " + o.input.filename().string(),
        [&](Backend& b, const JobControl& c) { return convertFile(o.input, o.output, s, b, c); });
    if (!g.quiet) {
        printRender(r);
    }
    if (o.json) {
        auto j = toJson(r);
        addBackendFacts(j, sel);
        std::cout << j.dump(2) << "\n";
    }
    return kExitOk;
}

int runDemoMix(const GlobalOptions& g, const DemoMixOptions& o) {
    signals::DemoMixSettings settings;
    settings.durationSeconds = o.durationSeconds;
    settings.sampleRate = o.rate;
    settings.seed = o.seed;
    signals::DemoMix mix(settings);
    RenderOptions options;
    if (const auto c = containerForExtension(o.output)) {
        options.container = *c;
    } else {
        throw UsageError("demo-mix writes .wav, .rf64, .flac or .aif files");
    }
    options.format = parseSampleFormat(o.bits);
    options.faults = faultsFromEnvironment();
    auto sel = selectBackend(g);
    ProgressPrinter printer("demo-mix " + o.output.filename().string(), !g.quiet);
    const RenderReport r = render(mix, {}, o.output, options, *sel.backend, makeControl(g, printer));
    printer.finish();
    if (!g.quiet) {
        printRender(r);
    }
    if (o.json) {
        std::cout << toJson(r).dump(2) << "\n";
    }
    return kExitOk;
}

} // namespace lathe::cli

namespace lathe::cli {
namespace {

TailPolicy parseTail(const std::string& s) {
    if (s == "keep") {
        return TailPolicy::Keep;
    }
    if (s == "cut") {
        return TailPolicy::Cut;
    }
    throw UsageError("unknown tail policy '" + s + "' (use keep or cut)");
}

Preset presetWithOverrides(const std::string& nameOrFile, const std::vector<std::string>& set) {
    PresetDocument doc = loadPresetDocument(nameOrFile);
    for (const auto& assignment : set) {
        applyOverride(doc, assignment);
    }
    return parsePreset(doc);
}

/// Writes planar float channels as a 32-bit float WAV (atomically).
void writeFloatWav(const std::filesystem::path& path, const std::vector<std::vector<float>>& channels,
                   SampleRate fs) {
    OutputSpec spec;
    spec.container = Container::Wav;
    spec.format = SampleFormat::Float32;
    spec.sampleRate = fs;
    spec.channels = static_cast<int>(channels.size());
    spec.expectedFrames = static_cast<Frames>(channels[0].size());
    AudioWriter writer(path, spec);
    std::vector<float> interleaved(channels[0].size() * channels.size());
    for (std::size_t n = 0; n < channels[0].size(); ++n) {
        for (std::size_t c = 0; c < channels.size(); ++c) {
            interleaved[n * channels.size() + c] = channels[c][n];
        }
    }
    writer.writeFloat(interleaved.data(), static_cast<Frames>(channels[0].size()));
    writer.commit();
}

void printStages(const RenderReport& r) {
    for (const StageRecord& s : r.stages) {
        std::cerr << "lathe: stage " << s.name << ": " << formatFixed(s.seconds, 2) << " s";
        const auto& d = s.details;
        if (s.name == "eq" && d.contains("taps")) {
            std::cerr << ", " << d["taps"].get<int>() << " taps (" << d["taps_chosen"].get<std::string>()
                      << "), latency " << formatFixed(d["latency_ms"].get<double>(), 1)
                      << " ms removed, pre-ring " << formatFixed(d["pre_ring_ms"].get<double>(), 1)
                      << " ms, within " << formatFixed(d["max_error_db"].get<double>(), 3)
                      << " dB of the target";
        } else if (s.name == "reverb" && d.contains("ir")) {
            std::cerr << ", IR " << d["ir"].get<std::string>() << " (" << d["ir_channels"].get<int>()
                      << " ch, " << formatFixed(d["ir_s"].get<double>(), 2) << " s"
                      << (d["resampled"].get<bool>() ? ", resampled" : "") << "), tail "
                      << formatFixed(d["tail_s"].get<double>(), 2) << " s";
        }
        std::cerr << "\n";
    }
}

/// Where one render of a targeted master spent its time (TargetingReport::RenderTimes).
nlohmann::json timesJson(const TargetingReport::RenderTimes& t) {
    return {{"decode_s", t.decode},      {"stages_s", t.stages},
            {"output_s", t.output},      {"tap_s", t.tap},
            {"encode_s", t.encode},      {"setup_s", t.setup},
            {"drain_s", t.drain},        {"read_wait_s", t.readWait},
            {"sink_wait_s", t.sinkWait}, {"write_wait_s", t.writeWait}};
}

} // namespace

/// The master settings the options describe: preset with overrides, output format, tail, and the
/// loudness target (--target, --match, or the preset's own) with its ceiling.
MasterSettings masterSettingsFrom(const MasterOptions& o) {
    MasterSettings s;
    s.preset = presetWithOverrides(o.preset, o.set);
    applyRenderFlags(o.flags, s);
    s.tail = parseTail(o.tail);
    if (!o.target.empty() && !o.match.empty()) {
        throw UsageError("--target and --match both set the loudness: give one");
    }
    if (!o.match.empty()) {
        // Match a reference: its integrated loudness is the target (its true peak is not: the
        // ceiling is --ceiling's, else the preset limiter's, else −1 dBTP).
        auto cpu = makeCpuBackend();
        LoudnessOptions loudnessOnly;
        loudnessOnly.truePeak = false;
        const LoudnessResult ref = measureLoudness(o.match, loudnessOnly, *cpu);
        if (!ref.integratedLufs) {
            throw AudioContentError(o.match.string(), "the reference has no integrated loudness to match (" +
                                                          ref.integratedNote + ")");
        }
        s.preset.targetLufs = *ref.integratedLufs;
        s.preset.name += ", matching " + o.match.filename().string();
    }
    if (!o.target.empty()) {
        const std::vector<Platform> table = builtinPlatforms();
        const auto [lufs, label] = parseTarget(o.target, table);
        LoudnessTarget t;
        t.lufs = lufs;
        t.label = label;
        t.ceilingDbtp = -1.0;
        for (const Platform& p : table) {
            if (p.id == o.target) {
                t.ceilingDbtp = p.truePeakMaxDbtp;
            }
        }
        if (o.ceilingDbtp) {
            if (*o.ceilingDbtp > 0.0 || *o.ceilingDbtp < -20.0) {
                throw UsageError("--ceiling takes a true-peak ceiling from -20 to 0 dBTP");
            }
            t.ceilingDbtp = *o.ceilingDbtp;
        }
        s.target = t;
    } else if (s.preset.targetLufs) {
        // The preset's own target; its limiter's ceiling (or −1 dBTP, or --ceiling).
        LoudnessTarget t = *presetTarget(s.preset);
        if (o.ceilingDbtp) {
            t.ceilingDbtp = *o.ceilingDbtp;
        }
        s.target = t;
    } else if (o.ceilingDbtp) {
        throw UsageError("--ceiling goes with --target (or set the limiter's ceiling_dbtp in the preset)");
    }
    return s;
}

int runMaster(const GlobalOptions& g, const MasterOptions& o) {
    MasterSettings s = masterSettingsFrom(o);
    if (!o.report.empty()) {
        checkWritable(o.report); // before the render, not after it
    }
    if (!o.html.empty()) {
        ensureDistinctFiles(o.input, o.html);
        ensureDistinctFiles(o.output, o.html);
        checkWritable(o.html);
    }
    const bool convolves = std::any_of(s.preset.stages.begin(), s.preset.stages.end(),
                                       [](const PresetStage& st) { return !st.bypass; });
    auto sel = selectBackend(g, convolves ? Capability::Convolution : Capability::Render);
    note(g, "preset " + s.preset.name + (s.preset.source == "bundled" ? "" : " (" + s.preset.source + ")") +
                ": " + std::to_string(s.preset.stages.size()) + " stage" +
                (s.preset.stages.size() == 1 ? "" : "s"));
    TargetingReport targeting;
    // --html: the mix and the master analysed as `lathe analyze --compare` would, on the master's
    // backend, taken as the master reads and writes them where the thread budget allows (the
    // same figures as reading both files again).
    std::optional<MasterAnalyses> analyses;
    if (!o.html.empty()) {
        analyses.emplace();
        analyses->options.loudness.reader = s.reader;
    }
    const RenderReport r = runWithCpuFallback(
        g, sel, "master " + o.input.filename().string(), [&](Backend& b, const JobControl& c) {
            return masterFile(o.input, o.output, s, b, c, &targeting, analyses ? &*analyses : nullptr);
        });
    if (!g.quiet) {
        printStages(r);
        if (s.target) {
            std::cerr << "lathe: " << targeting.target.label << ", ceiling "
                      << formatFixed(targeting.target.ceilingDbtp, 1) << " dBTP: before the limiter "
                      << level(targeting.preLimiterLufs, "LUFS");
            if (targeting.trial) {
                std::cerr << "; trial drive " << formatFixed(targeting.trial->inputGainDb, 2) << " dB -> "
                          << formatFixed(targeting.trial->lufs, 2) << " LUFS (unverified, not written)";
            }
            for (const auto& p : targeting.passes) {
                std::cerr << "; drive " << formatFixed(p.inputGainDb, 2) << " dB -> " << level(p.lufs, "LUFS")
                          << ", " << level(p.truePeakDbtp, "dBTP");
            }
            std::cerr << (targeting.reached ? " (reached)" : " (not reached)") << "\n";
        }
        printRender(r);
    }
    if (o.json || !o.report.empty()) {
        nlohmann::json j = toJson(r);
        addBackendFacts(j, sel);
        j["preset"] = toJson(s.preset);
        if (s.target) {
            nlohmann::json tj;
            tj["target_lufs"] = targeting.target.lufs;
            tj["ceiling_dbtp"] = targeting.target.ceilingDbtp;
            tj["label"] = targeting.target.label;
            tj["pre_limiter_lufs"] = dbOrNull(targeting.preLimiterLufs);
            tj["reached"] = targeting.reached;
            tj["passes"] = nlohmann::json::array();
            for (const auto& p : targeting.passes) {
                tj["passes"].push_back({{"input_gain_db", p.inputGainDb},
                                        {"integrated_lufs", dbOrNull(p.lufs)},
                                        {"true_peak_dbtp", dbOrNull(p.truePeakDbtp)},
                                        {"seconds", p.seconds},
                                        {"times", timesJson(p.times)},
                                        {"measure_s", p.measureSeconds}});
            }
            tj["trial"] = targeting.trial ? nlohmann::json{{"input_gain_db", targeting.trial->inputGainDb},
                                                           {"integrated_lufs", targeting.trial->lufs},
                                                           {"on_device", targeting.trial->onDevice}}
                                          : nlohmann::json();
            tj["pre_limiter_render_s"] = targeting.preLimiterRenderSeconds;
            tj["pre_limiter_times"] = timesJson(targeting.preLimiterTimes);
            tj["pre_limiter_measure_s"] = targeting.preLimiterMeasureSeconds;
            tj["trial_s"] = targeting.trialSeconds;
            tj["intermediate"] = {{"held_in", targeting.intermediateInMemory ? "memory" : "file"},
                                  {"bytes", targeting.intermediateBytes}};
            tj["note"] = targeting.note.empty() ? nlohmann::json() : nlohmann::json(targeting.note);
            j["targeting"] = tj;
        }
        if (analyses) {
            j["analyses"] = {{"taken_while_rendering", analyses->tapped}, {"wait_s", analyses->waitSeconds}};
        }
        if (!o.report.empty()) {
            writeFileAtomically(o.report, j.dump(2) + "\n");
        }
        if (o.json) {
            std::cout << j.dump(2) << "\n";
        }
    }
    if (analyses) {
        // The mix and the master, plus the dynamics (the CUDA backend is verified for loudness and
        // spectrum: an hour's analyze took 2.19 s there against 4.02 s on the machine's 16 cores).
        HtmlReportInput in;
        in.result = &analyses->before;
        in.compare = &analyses->after;
        in.platforms = previewPlatforms(analyses->after.loudness, builtinPlatforms());
        if (s.target) {
            in.targetLufs = s.target->lufs;
            in.targetLabel = s.target->label;
        }
        in.backend = std::string(sel.backend->name()) + " — " + sel.reason;
        in.parameters.push_back({"preset", toJson(s.preset).dump()});
        in.gainReduction = gainReductionSeries(r);
        writeFileAtomically(o.html, renderHtmlReport(in));
        note(g, "wrote " + o.html.string());
    }
    return kExitOk;
}

int runBatch(const GlobalOptions& g, const BatchOptions& o) {
    if (!o.merge.empty()) {
        if (!o.inputs.empty() || !o.outputDir.empty() || !o.shard.empty()) {
            throw UsageError(
                "--merge DIR builds the summary of an earlier batch: give no inputs, -o or --shard");
        }
        if (!std::filesystem::is_directory(o.merge)) {
            throw InputError(o.merge, "is not a directory");
        }
        const std::vector<nlohmann::json> entries = batch::writeSummary(o.merge);
        if (entries.empty()) {
            throw InputError(o.merge, "holds no batch manifest (manifest*.jsonl)");
        }
        const auto failed = static_cast<std::size_t>(
            std::count_if(entries.begin(), entries.end(),
                          [](const nlohmann::json& e) { return e.value("status", "") != "done"; }));
        note(g, "merged " + std::to_string(entries.size()) + " files (" + std::to_string(failed) +
                    " failed) into " + (o.merge / "summary.csv").string() + " and summary.html");
        if (o.json) {
            std::cout << nlohmann::json(entries).dump(2) << "\n";
        }
        return failed > 0 ? kExitSomeFailed : kExitOk;
    }
    if (o.inputs.empty() || o.outputDir.empty()) {
        throw UsageError("batch needs inputs and -o OUTDIR (or --merge OUTDIR)");
    }
    batch::Settings s;
    s.inputs = o.inputs;
    s.outputDir = o.outputDir;
    s.analyzeOnly = o.analyzeOnly;
    s.album = o.album;
    s.jobs = o.jobs;
    if (!o.shard.empty()) {
        s.shard = batch::parseShard(o.shard);
    }
    s.master = masterSettingsFrom(o.master);
    if (s.master.container) { // --format: the outputs' extension follows it
        const std::string name(containerName(*s.master.container));
        s.outputExtension = name == "aiff" ? "aif" : name;
    }
    for (const auto& in : o.inputs) {
        if (std::filesystem::exists(in) && std::filesystem::equivalent(in, o.outputDir)) {
            throw UsageError("the output directory is also an input: " + in.string());
        }
    }
    auto sel = selectBackend(g, o.analyzeOnly ? Capability::Render : Capability::Convolution);
    if (!o.analyzeOnly) {
        note(g, "preset " + s.master.preset.name + ": " + std::to_string(s.master.preset.stages.size()) +
                    " stages");
    }
    JobControl control;
    control.cancel = g.cancel;
    if (const int delay = blockDelayMs(); delay > 0) {
        // Test hook: slow every block down and say which phase it belongs to, so a test can kill
        // the batch in the middle of a render.
        control.progress = [delay](const Progress& p) {
            std::fprintf(stderr, "lathe: test hook: %.*s block\n", static_cast<int>(p.phase.size()),
                         p.phase.data());
            std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        };
    }
    const batch::Summary summary = batch::run(
        s, *sel.backend, control, [&](const batch::ItemResult& r, std::size_t finished, std::size_t total) {
            if (g.quiet) {
                return;
            }
            std::string line = "batch [" + std::to_string(finished) + "/" + std::to_string(total) + "] " +
                               std::string(batch::statusName(r.status)) + " " + r.item.relative.string();
            if (r.status == batch::Status::Done) {
                line += " (" + formatFixed(r.entry.value("seconds", 0.0), 1) + " s)";
            }
            if (r.status == batch::Status::Failed) {
                line += ": " + r.error;
            }
            std::cerr << "lathe: " << line << "\n";
        });
    const std::string shardText = s.shard.count > 1 ? " (shard " + o.shard + ")" : "";
    note(g, std::to_string(summary.items.size()) + " files" + shardText + ": " +
                std::to_string(summary.done) + " done, " + std::to_string(summary.skipped) +
                " already done (skipped), " + std::to_string(summary.failed) + " failed, in " +
                formatFixed(summary.seconds, 1) + " s; manifest " +
                batch::manifestPath(s.outputDir, s.shard).string());
    if (s.album) {
        note(g, "album: " + (s.outputDir / "album.json").string() +
                    " (one gain, loudness and balance spread, outliers)");
    }
    if (s.shard.count == 1) {
        batch::writeSummary(s.outputDir);
        note(g, "summary: " + (s.outputDir / "summary.csv").string() + ", summary.html");
    } else {
        note(g, "when every shard has finished: lathe batch --merge " + s.outputDir.string());
    }
    if (o.json) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& r : summary.items) {
            nlohmann::json e = r.entry;
            e["batch_status"] = batch::statusName(r.status);
            j.push_back(e);
        }
        std::cout << j.dump(2) << "\n";
    }
    return summary.failed > 0 ? kExitSomeFailed : kExitOk;
}

int runPresets(const GlobalOptions&, const PresetsOptions& o) {
    if (!o.show.empty()) {
        std::cout << toJson(parsePreset(loadPresetDocument(o.show))).dump(2) << "\n";
        return kExitOk;
    }
    const auto presets = bundledPresets();
    if (o.json) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& p : presets) {
            j.push_back({{"name", p.name}, {"description", p.description}});
        }
        std::cout << j.dump(2) << "\n";
        return kExitOk;
    }
    for (const auto& p : presets) {
        std::printf("  %-15s %s\n", p.name.c_str(), p.description.c_str());
    }
    std::printf("Use: lathe master IN -o OUT --preset NAME [--set stage.param=value]; "
                "`lathe presets --show NAME` prints every parameter.\n");
    return kExitOk;
}

int runExportIr(const GlobalOptions& g, const ExportFilterOptions& o) {
    const design::RoomSpec* room = design::findRoom(o.source);
    if (room == nullptr) {
        std::string names;
        for (const auto& r : design::builtinRooms()) {
            names += (names.empty() ? "" : ", ") + r.name;
        }
        throw UsageError("no room '" + o.source + "' (rooms: " + names + ")");
    }
    const SampleRate fs = checkedRate(o.rate, "--rate");
    const AudioBuffer ir = design::generateRoomIr(*room, fs);
    std::vector<std::vector<float>> channels;
    for (int c = 0; c < ir.channels(); ++c) {
        channels.emplace_back(ir.channel(c), ir.channel(c) + ir.frames());
    }
    writeFloatWav(o.output, channels, fs);
    note(g, "wrote " + o.output.string() + ": " + room->name + ", " +
                formatFixed(framesToSeconds(ir.frames(), fs), 2) + " s stereo at " + std::to_string(fs) +
                " Hz (unnormalised; the reverb stage normalises)");
    return kExitOk;
}

int runExportFir(const GlobalOptions& g, const ExportFilterOptions& o) {
    const Preset preset = presetWithOverrides(o.source, o.set);
    const SampleRate fs = checkedRate(o.rate, "--rate");
    for (const PresetStage& st : preset.stages) {
        const auto* eq = std::get_if<design::EqSpec>(&st.spec);
        if (eq == nullptr) {
            continue;
        }
        if (design::usesMidSide(*eq)) {
            throw UsageError("stage '" + st.id +
                             "' has mid/side bands: it is a 2×2 filter matrix, not one FIR");
        }
        const design::EqDesign d = design::designEq(*eq, fs);
        const std::vector<float> taps(d.stereo.taps.begin(), d.stereo.taps.end());
        if (toLower(o.output.extension().string()) == ".txt") {
            std::string text;
            char line[64];
            for (double v : d.stereo.taps) {
                std::snprintf(line, sizeof line, "%.9g\n", v);
                text += line;
            }
            writeFileAtomically(o.output, text);
        } else {
            writeFloatWav(o.output, {taps}, fs);
        }
        note(g, "wrote " + o.output.string() + ": " + std::to_string(d.taps) + " taps at " +
                    std::to_string(fs) + " Hz, delay " + std::to_string(d.stereo.delay) +
                    " samples, within " + formatFixed(d.maxErrorDb, 3) + " dB of the target");
        return kExitOk;
    }
    throw UsageError("preset '" + preset.name + "' has no EQ stage");
}

int runSpeakers(const GlobalOptions&, const SpeakersOptions& o) {
    if (!o.show.empty()) {
        const std::vector<SpeakerModel> picked = selectSpeakers(o.show);
        const SpeakerModel& m = picked.back(); // selectSpeakers puts the reference first
        if (o.json) {
            std::cout << toJson(m).dump(2) << "\n";
            return kExitOk;
        }
        std::cout << m.name << " (" << m.id << (m.reference ? ", the reference" : "") << ")\n"
                  << "  " << m.description << "\n  why: " << m.rationale << "\n";
        if (const auto f10 = speakerBassLimitHz(m)) {
            std::cout << "  bass limit (-10 dB re 1 kHz): " << formatFixed(*f10, 0) << " Hz\n";
        }
        std::cout << "  mono: " << (m.mono ? "yes" : "no") << "; driver protection: "
                  << (m.driver ? formatFixed(m.driver->thresholdLu, 0) + " LU above the programme, " +
                                     formatFixed(m.driver->ratio, 1) + ":1"
                               : std::string("none"))
                  << "; listening level " << formatFixed(m.listeningLevelDbSpl, 0) << " dB SPL\n";
        return kExitOk;
    }
    if (o.json) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& m : builtinSpeakers()) {
            a.push_back(toJson(m));
        }
        std::cout << a.dump(2) << "\n";
        return kExitOk;
    }
    for (const auto& m : builtinSpeakers()) {
        const auto f10 = speakerBassLimitHz(m);
        std::printf("%-18s %-28s bass to %5s Hz%s%s\n", m.id.c_str(), m.name.c_str(),
                    f10 ? formatFixed(*f10, 0).c_str() : "?", m.mono ? ", mono" : "",
                    m.reference ? ", reference" : (m.driver ? ", driver protection" : ""));
    }
    return kExitOk;
}

namespace {

/// The --render directory (created with its parents), before any work.
void createRenderDirectory(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir)) {
        throw OutputError(dir,
                          "cannot create the render directory" + (ec ? ": " + ec.message() : std::string()));
    }
}

} // namespace

int runCompare(const GlobalOptions& g, const CompareOptions& o) {
    if (o.files.empty() || o.files.size() > 2) {
        throw UsageError("compare takes one file, or two (mix and master, or master A and B)");
    }
    TranslationOptions options;
    options.models = selectSpeakers(o.speakers);
    options.jobs = o.jobs;
    options.reader = readerOptions(o.strict, o.layout);
    if (!o.html.empty()) {
        for (const auto& f : o.files) {
            ensureDistinctFiles(f, o.html);
        }
        checkWritable(o.html);
    }
    if (!o.render.empty()) {
        createRenderDirectory(o.render);
    }
    auto sel = selectBackend(g, Capability::Convolution);
    std::vector<TranslationResult> results;
    for (std::size_t k = 0; k < o.files.size(); ++k) {
        TranslationOptions each = options;
        if (!o.render.empty()) {
            // Two files write into subfolders a/ and b/ so their renders never collide.
            each.renderDir = o.files.size() == 1 ? o.render : o.render / (k == 0 ? "a" : "b");
            std::filesystem::create_directories(*each.renderDir);
        }
        ProgressPrinter printer("speakers " + o.files[k].filename().string(), !g.quiet);
        results.push_back(measureTranslation(o.files[k], each, *sel.backend, makeControl(g, printer)));
        printer.finish();
    }
    if (o.json) {
        nlohmann::json j =
            results.size() == 2 ? translationComparisonJson(results[0], results[1]) : toJson(results[0]);
        addBackendFacts(j, sel);
        std::cout << j.dump() << "\n";
    } else {
        for (const auto& t : results) {
            printTranslation(t);
        }
    }
    if (!o.html.empty()) {
        AnalysisOptions ao;
        ao.loudness.reader = options.reader;
        std::vector<AnalysisResult> analyses;
        for (const auto& f : o.files) {
            ProgressPrinter printer("analyze " + f.filename().string(), !g.quiet);
            analyses.push_back(analyzeFile(f, ao, *sel.backend, makeControl(g, printer)));
            printer.finish();
        }
        HtmlReportInput in;
        in.result = &analyses[0];
        in.compare = analyses.size() == 2 ? &analyses[1] : nullptr;
        in.platforms = previewPlatforms(analyses[0].loudness, builtinPlatforms());
        in.translation = &results[0];
        in.translationCompare = results.size() == 2 ? &results[1] : nullptr;
        in.backend = std::string(sel.backend->name()) + " — " + sel.reason;
        in.parameters.push_back({"speakers", o.speakers});
        writeFileAtomically(o.html, renderHtmlReport(in));
        note(g, "wrote " + o.html.string());
    }
    return kExitOk;
}

int runPreviewCodecs(const GlobalOptions& g, const PreviewCodecsOptions& o) {
    CodecPreviewOptions options;
    options.jobs = o.jobs;
    options.reader = readerOptions(o.strict, "");
    if (!o.codecs.empty()) {
        std::istringstream in(o.codecs);
        std::string id;
        while (std::getline(in, id, ',')) {
            const auto& table = builtinPlatformCodecs();
            const auto it =
                std::find_if(table.begin(), table.end(), [&](const PlatformCodec& c) { return c.id == id; });
            if (it == table.end()) {
                std::vector<std::string> ids;
                for (const auto& c : table) {
                    ids.push_back(c.id);
                }
                std::string known;
                for (const auto& k : ids) {
                    known += (known.empty() ? "" : ", ") + k;
                }
                throw UsageError("no codec '" + id + "' (known: " + known + ")");
            }
            options.codecs.push_back(*it);
        }
    }
    if (!o.render.empty()) {
        createRenderDirectory(o.render);
        options.renderDir = o.render;
    }
    auto sel = selectBackend(g, Capability::Loudness);
    ProgressPrinter printer("codecs " + o.file.filename().string(), !g.quiet);
    const CodecPreviewResult r = previewCodecs(o.file, options, *sel.backend, makeControl(g, printer));
    printer.finish();
    if (o.json) {
        nlohmann::json j = toJson(r);
        addBackendFacts(j, sel);
        std::cout << j.dump() << "\n";
        return kExitOk;
    }
    std::cout << r.source << ": " << level(r.original.integratedLufs, "LUFS") << ", true peak "
              << (r.original.truePeakDbtp ? formatFixed(r.original.truePeakDbtp->value, 2) + " dBTP"
                                          : std::string("-"))
              << "\n";
    printCodecs(r);
    for (const auto& w : r.warnings) {
        std::cout << "  warning          " << w << "\n";
    }
    return kExitOk;
}

} // namespace lathe::cli
