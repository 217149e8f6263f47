// SPDX-License-Identifier: GPL-3.0-or-later
// `lathe`: argument parsing → engine → exit code. Nothing else lives here.
#include "Commands.h"
#include "ExitCodes.h"

#include <lathe/Error.h>
#include <lathe/gpu/Gpu.h>

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <new>
#include <system_error>

namespace {

lathe::CancelToken g_cancel;

extern "C" void onSignal(int signo) {
    g_cancel.cancel(signo); // lock-free atomic store: async-signal-safe
}

void installSignalHandlers() {
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    for (int s : {SIGINT, SIGTERM, SIGHUP}) {
        sigaction(s, &sa, nullptr);
    }
}

const char* kExitCodeHelp = R"(Exit codes:
  0  success
  1  internal error (a bug in Lathe)
  2  bad command line or option value
  3  input missing, unreadable, unsupported, corrupt or outside the limits
  4  output cannot be written (same file as the input, no directory, disk full, ...)
  5  the audio cannot be processed (NaN/Inf without --sanitize, no audio)
  6  the requested backend is unavailable or the GPU failed
  7  batch: some files failed (the manifest and summary name each one and why)
  128+N  cancelled by signal N (130: Ctrl-C, 143: SIGTERM); no partial output is left)";

/// The options of RenderFlags, shared by convert and master.
void addRenderFlags(CLI::App* cmd, lathe::cli::RenderFlags& f, const char* rateHelp, const char* bitsHelp) {
    cmd->add_option("--rate", f.rate, rateHelp);
    cmd->add_option("--bits", f.bits, bitsHelp);
    cmd->add_option("--format", f.format,
                    "Output container: wav, rf64, flac, aiff (default: from the extension)");
    cmd->add_option("--dither", f.dither,
                    "auto (when needed), tpdf (always), shaped (TPDF with F-weighted noise shaping), off")
        ->check(CLI::IsMember({"auto", "tpdf", "on", "shaped", "off", "none"}));
    cmd->add_option("--seed", f.seed, "Dither noise seed (renders are reproducible)");
    cmd->add_flag("--sanitize", f.sanitize, "Replace NaN/Inf samples by silence instead of failing");
    cmd->add_flag("--strict", f.strict, "Treat a truncated input as an error");
    cmd->add_option("--layout", f.layout, "Channel layout when the input has none (e.g. 5.1)");
}

} // namespace

int main(int argc, char** argv) {
    using namespace lathe;
    using namespace lathe::cli;

    installSignalHandlers();
    BackendRegistry registry;
    gpu::registerCudaBackend(registry);

    GlobalOptions g;
    g.cancel = &g_cancel;
    g.registry = &registry;

    CLI::App app{"Lathe " LATHE_VERSION " — GPU-accelerated offline mastering and analysis"};
    app.footer(kExitCodeHelp);
    app.set_version_flag("--version", "lathe " LATHE_VERSION);
    app.require_subcommand(1);
    app.add_flag("-q,--quiet", g.quiet, "No progress or notes on stderr (errors are still printed)");
    app.add_option("--backend", g.backend,
                   "Compute backend: auto (CUDA if a device answers, else CPU), cpu, cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));

    InfoOptions info;
    auto* infoCmd =
        app.add_subcommand("info", "Format, rate, channels and layout, duration, peak and warnings");
    infoCmd->add_option("files", info.files, "Audio files");
    infoCmd->add_flag("--json", info.json,
                      "Print JSON (one object per file; one line each for several files)");
    infoCmd->add_flag("--devices", info.devices, "List compute backends and CUDA devices");
    infoCmd->add_flag("--strict", info.strict, "Treat a truncated file as an error");
    infoCmd->add_option("--layout", info.layout,
                        "Channel layout when the file has none (e.g. 5.1, \"L R C LFE Ls Rs\")");

    ConvertOptions convert;
    auto* convertCmd = app.add_subcommand("convert", "Convert format, bit depth and sample rate");
    convertCmd->add_option("input", convert.input, "Input audio file")->required();
    convertCmd->add_option("-o,--output", convert.output, "Output file (.wav, .rf64, .flac, .aif)")
        ->required();
    addRenderFlags(convertCmd, convert.flags, "Output sample rate in Hz (libsoxr, very high quality)",
                   "Output sample format: 16, 24 or 32f (default: as the input)");
    convertCmd->add_flag("--json", convert.json, "Print the conversion report as JSON on stdout");

    AnalyzeOptions analyze;
    auto* analyzeCmd =
        app.add_subcommand("analyze", "Loudness (BS.1770-5 / EBU R128), spectrum, spectrogram, "
                                      "stereo image, mix-readiness findings, platform preview, HTML report");
    analyzeCmd->add_option("files", analyze.files, "Audio files (several: also their album loudness)")
        ->required();
    analyzeCmd->add_flag("--json", analyze.json,
                         "Print JSON (one object per file; one line each for several)");
    analyzeCmd->add_flag("--platforms", analyze.platforms, "Preview what streaming platforms would do to it");
    analyzeCmd->add_option("--platforms-file", analyze.platformsFile,
                           "Use this platform table instead of the built-in one");
    analyzeCmd->add_flag("--history", analyze.history, "Include the 100 ms loudness history in the JSON");
    analyzeCmd->add_flag("--dual-mono", analyze.dualMono,
                         "Count a mono file twice (+3 dB), as played on two speakers");
    analyzeCmd->add_flag("--strict", analyze.strict, "Treat a truncated file as an error");
    analyzeCmd->add_option("--layout", analyze.layout, "Channel layout when the file has none (e.g. 5.1)");
    analyzeCmd->add_option("--html", analyze.html,
                           "Write a self-contained HTML report (plots, findings, platforms)");
    analyzeCmd->add_option("--compare", analyze.compare,
                           "A second file (e.g. the master) for before/after views");
    analyzeCmd->add_option("--smoothing", analyze.smoothing,
                           "Spectrum smoothing: 1/N octave, N = 1, 3, 6, 12, 24 (default 6), 0 = none");
    analyzeCmd->add_option("--target", analyze.target,
                           "Loudness target line: -14, -14LUFS or a platform id (default -14)");
    analyzeCmd->add_option("--speakers", analyze.speakers,
                           "Also render through speaker models (all, or ids/files separated by commas): the "
                           "translation section of the JSON and HTML (as lathe compare)");
    analyzeCmd->add_flag("--codecs", analyze.codecs,
                         "Run the platforms' codecs for real (as preview-codecs): measured true peak after "
                         "decoding in the platform table");
    analyzeCmd->add_flag("--loudness-only", analyze.loudnessOnly,
                         "Skip spectrum, spectrogram, stereo and readiness (faster)");

    MasterOptions master;
    auto* masterCmd = app.add_subcommand(
        "master", "Master a file through a preset chain (linear-phase EQ, multiband dynamics, reverb, true-peak limiter, loudness target)");
    masterCmd->add_option("input", master.input, "Input audio file")->required();
    masterCmd->add_option("-o,--output", master.output, "Output file (.wav, .rf64, .flac, .aif)")->required();
    masterCmd->add_option(
        "--preset", master.preset,
        "Bundled preset name (see `lathe presets`) or a preset JSON file (default: default)");
    masterCmd->add_option(
        "--set", master.set,
        "Override a parameter: stage.param=value, e.g. eq.band2.gain_db=-1, reverb.wet_db=-20 (repeatable)");
    masterCmd
        ->add_option("--tail", master.tail,
                     "keep: append the reverb tail (until below -120 dBFS); cut: keep the input's length")
        ->check(CLI::IsMember({"keep", "cut"}));
    addRenderFlags(masterCmd, master.flags,
                   "Output sample rate in Hz (libsoxr, very high quality; converted first, so the chain and "
                   "the limiter run at it)",
                   "Output sample format: 16, 24 or 32f (default: 32f for float input, else 24)");
    masterCmd->add_option(
        "--target", master.target,
        "Final loudness: a platform id (spotify, apple-music, youtube, ebu-r128, ...) or -14 / -14LUFS");
    masterCmd->add_option("--match", master.match,
                          "Final loudness: that of this reference file (its integrated loudness)");
    masterCmd->add_option("--ceiling", master.ceilingDbtp,
                          "True-peak ceiling in dBTP for --target (default: the platform's limit, else -1)");
    masterCmd->add_flag("--json", master.json,
                        "Print the report (chain, every parameter, stages, timings) as JSON on stdout");
    masterCmd->add_option("--report", master.report, "Also write that JSON report to this file");
    masterCmd->add_option(
        "--html", master.html,
        "Write an HTML report: the mix and the master (loudness, spectra, platforms) and the "
        "gain reduction of each dynamics stage over time");

    BatchOptions batchOpts;
    auto* batchCmd = app.add_subcommand(
        "batch", "Master (or analyse) many files: restartable, one manifest line per file, shards for "
                 "cluster array jobs, CSV/HTML summary");
    batchCmd->add_option(
        "inputs", batchOpts.inputs,
        "Audio files, directories (searched recursively) or list files (.txt: one path a line)");
    batchCmd->add_option("-o,--output", batchOpts.outputDir,
                         "Output directory (created; manifest and summary go here)");
    batchCmd->add_option("--preset", batchOpts.master.preset, "Preset name or file (default: default)");
    batchCmd->add_option("--set", batchOpts.master.set,
                         "Override a preset parameter, as for master (repeatable)");
    batchCmd->add_option("--target", batchOpts.master.target,
                         "Final loudness: a platform id or -14 / -14LUFS");
    batchCmd->add_option("--ceiling", batchOpts.master.ceilingDbtp, "True-peak ceiling in dBTP for --target");
    batchCmd->add_option("--tail", batchOpts.master.tail, "keep or cut the reverb tail")
        ->check(CLI::IsMember({"keep", "cut"}));
    addRenderFlags(batchCmd, batchOpts.master.flags, "Output sample rate in Hz",
                   "Output sample format: 16, 24 or 32f (default: 32f for float input, else 24)");
    batchCmd->add_flag("--analyze-only", batchOpts.analyzeOnly,
                       "Write each file's analysis (JSON) instead of a master");
    batchCmd->add_flag("--album", batchOpts.album,
                       "The inputs are one album: one gain for all songs keeps their relative loudness "
                       "(target: --target or the preset's); writes album.json");
    batchCmd
        ->add_option("--jobs,-j", batchOpts.jobs,
                     "Cores to use, as make -j: that many files at once, one thread each (default: every CPU "
                     "this process may use)")
        ->check(CLI::Range(1u, 1024u));
    batchCmd->add_option(
        "--shard", batchOpts.shard,
        "Process shard I of N (0 <= I < N): every N-th file of the sorted list, from the I-th");
    batchCmd->add_option("--merge", batchOpts.merge,
                         "Only build summary.csv/.html in this directory from every shard's manifest");
    batchCmd->add_flag("--json", batchOpts.json, "Print the summary as JSON on stdout");

    SpeakersOptions speakers;
    auto* speakersCmd = app.add_subcommand("speakers", "List the built-in speaker models (or show one)");
    speakersCmd->add_option("model", speakers.show, "A model id or file to show in full");
    speakersCmd->add_flag("--json", speakers.json, "Print JSON (the model file format)");

    CompareOptions compare;
    auto* compareCmd = app.add_subcommand(
        "compare", "How a master translates: render through speaker models, level-matched to the monitors");
    compareCmd->add_option("files", compare.files, "The master, or two files (mix and master, A and B)")
        ->required();
    compareCmd->add_option("--speakers", compare.speakers,
                           "all (default), or ids/files separated by commas (see 'lathe speakers')");
    compareCmd->add_flag("--json", compare.json, "Print JSON (two files: each file's metrics and b - a)");
    compareCmd->add_option("--html", compare.html, "Write the HTML report with the translation section");
    compareCmd->add_option("--render", compare.render,
                           "Write each model's level-matched render into this directory, for listening");
    compareCmd->add_option("--jobs", compare.jobs, "Models rendered at once (default: one per CPU)");
    compareCmd->add_flag("--strict", compare.strict, "Treat a truncated file as an error");
    compareCmd->add_option("--layout", compare.layout, "Channel layout when the file has none (e.g. 5.1)");

    PreviewCodecsOptions codecs;
    auto* codecsCmd = app.add_subcommand(
        "preview-codecs", "Encode and decode with the platforms' real codecs (AAC, Vorbis, Opus, MP3) and "
                          "measure true peak, loudness and spectrum after decoding");
    codecsCmd->add_option("file", codecs.file, "The master (mono or stereo)")->required();
    codecsCmd->add_option("--codecs", codecs.codecs, "Codec ids separated by commas (default: all)");
    codecsCmd->add_flag("--json", codecs.json, "Print JSON");
    codecsCmd->add_option("--render", codecs.render,
                          "Write each decoded stream into this directory (32-bit float WAV), for listening");
    codecsCmd->add_option("--jobs", codecs.jobs, "Codecs run at once (default: one per CPU)");
    codecsCmd->add_flag("--strict", codecs.strict, "Treat a truncated file as an error");

    PresetsOptions presets;
    auto* presetsCmd =
        app.add_subcommand("presets", "List the bundled presets (or show one with every parameter)");
    presetsCmd->add_flag("--json", presets.json, "Print JSON");
    presetsCmd->add_option("--show", presets.show,
                           "Print this preset (name or file) with every parameter resolved");

    ExportFilterOptions exportIr;
    auto* irCmd = app.add_subcommand("ir", "Write a built-in room's impulse response (stereo, 32-bit float)");
    irCmd->add_option("room", exportIr.source, "Room name (glue-room, chamber, plate, hall, cathedral)")
        ->required();
    irCmd->add_option("-o,--output", exportIr.output, "Output WAV file")->required();
    irCmd->add_option("--rate", exportIr.rate, "Sample rate in Hz (default 48000)");

    ExportFilterOptions exportFir;
    auto* firCmd = app.add_subcommand(
        "fir",
        "Write the linear-phase FIR a preset's first EQ stage designs (.wav, or .txt one tap per line)");
    firCmd->add_option("preset", exportFir.source, "Preset name or file")->required();
    firCmd->add_option("-o,--output", exportFir.output, "Output file (.wav: mono 32-bit float; .txt: text)")
        ->required();
    firCmd->add_option("--rate", exportFir.rate, "Sample rate in Hz (default 48000)");
    firCmd->add_option("--set", exportFir.set, "Override a parameter, as for master");

    DemoMixOptions demo;
    auto* demoCmd = app.add_subcommand("demo-mix", "Write Lathe's synthesised demo/benchmark mix");
    demoCmd->add_option("-o,--output", demo.output, "Output file (.wav, .rf64, .flac, .aif)")->required();
    demoCmd->add_option("--duration", demo.durationSeconds, "Length in seconds (default 60)");
    demoCmd->add_option("--rate", demo.rate, "Sample rate in Hz (default 48000)");
    demoCmd->add_option("--seed", demo.seed, "Random seed (default 1)");
    demoCmd->add_option("--bits", demo.bits, "16, 24 (default) or 32f");
    demoCmd->add_flag("--json", demo.json, "Print the render report as JSON on stdout");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kExitUsage;
    }

    try {
        if (infoCmd->parsed()) {
            return runInfo(g, info);
        }
        if (convertCmd->parsed()) {
            return runConvert(g, convert);
        }
        if (analyzeCmd->parsed()) {
            return runAnalyze(g, analyze);
        }
        if (masterCmd->parsed()) {
            return runMaster(g, master);
        }
        if (speakersCmd->parsed()) {
            return runSpeakers(g, speakers);
        }
        if (codecsCmd->parsed()) {
            return runPreviewCodecs(g, codecs);
        }
        if (compareCmd->parsed()) {
            return runCompare(g, compare);
        }
        if (batchCmd->parsed()) {
            return runBatch(g, batchOpts);
        }
        if (presetsCmd->parsed()) {
            return runPresets(g, presets);
        }
        if (irCmd->parsed()) {
            return runExportIr(g, exportIr);
        }
        if (firCmd->parsed()) {
            return runExportFir(g, exportFir);
        }
        if (demoCmd->parsed()) {
            return runDemoMix(g, demo);
        }
        return kExitUsage;
    } catch (const lathe::CancelledError&) {
        std::fprintf(stderr, "lathe: cancelled; no output was written\n");
        return kExitSignalBase + (g_cancel.reason() > 1 ? g_cancel.reason() : SIGINT);
    } catch (const lathe::Error& e) {
        std::fprintf(stderr, "lathe: error: %s\n", e.what());
        return exitCodeFor(e.kind());
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "lathe: error: out of memory\n");
        return kExitInternal;
    } catch (const std::system_error& e) {
        // std::thread's EAGAIN: no memory (or no process slot) for another thread's stack.
        if (e.code() == std::errc::resource_unavailable_try_again) {
            std::fprintf(stderr, "lathe: error: out of memory (a worker thread could not start)\n");
        } else {
            std::fprintf(stderr, "lathe: internal error: %s\n", e.what());
        }
        return kExitInternal;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lathe: internal error: %s\n", e.what());
        return kExitInternal;
    }
}
