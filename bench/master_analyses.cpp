// SPDX-License-Identifier: GPL-3.0-or-later
// `lathe master --html`'s work: a targeted master with the analyses of its input and output
// (MasterAnalyses) taken while it renders, against the master followed by analyzeFile of both
// files (what the CLI did before), alternating in one invocation. Usage: master_analyses FILE
// ROUNDS [PRESET [BACKEND [THREADS]]] (PRESET default glue-master, BACKEND cpu|cuda|auto, THREADS 0
// = every hardware thread; the analyses are taken while rendering from kAnalysisTapMinThreads on).
// Prints each way's wall time (the master, then the analyses' wait) and the integrated loudness of
// both analyses, which must be the same both ways.
#include <lathe/Analysis.h>
#include <lathe/Backend.h>
#include <lathe/Master.h>
#include <lathe/gpu/Gpu.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <unistd.h>

using namespace lathe;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s FILE ROUNDS [PRESET [cpu|cuda|auto [THREADS]]]\n", argv[0]);
        return 2;
    }
    try {
        const std::filesystem::path input = argv[1];
        const int rounds = std::atoi(argv[2]);
        BackendRegistry registry;
        gpu::registerCudaBackend(registry);
        BackendRegistry::Selection sel = registry.select(argc > 4 ? argv[4] : "auto");
        MasterSettings s;
        s.preset = parsePreset(loadPresetDocument(argc > 3 ? argv[3] : "glue-master"));
        s.target = presetTarget(s.preset);
        s.threads = argc > 5 ? static_cast<unsigned>(std::atoi(argv[5])) : 0;
        const std::filesystem::path dir =
            std::filesystem::temp_directory_path() / ("lathe-master-analyses-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        const auto out = dir / "master.wav";
        std::printf("%s, preset %s, on %s (%s), %u thread(s)\n", input.filename().c_str(),
                    s.preset.name.c_str(), std::string(sel.backend->name()).c_str(), sel.reason.c_str(),
                    s.threads);
        auto since = [](std::chrono::steady_clock::time_point t0) {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        };
        auto lufs = [](const AnalysisResult& a) { return a.loudness.integratedLufs.value_or(-999.0); };
        for (int round = 0; round < rounds; ++round) {
            {
                MasterAnalyses a;
                const auto t0 = std::chrono::steady_clock::now();
                masterFile(input, out, s, *sel.backend, {}, nullptr, &a);
                const double wall = since(t0);
                std::printf("analyses %-14s: %.3f s (of which waiting for them after the master %.3f s)  "
                            "mix %.4f LUFS, master %.4f LUFS\n",
                            a.tapped ? "while rendering" : "read back", wall, a.waitSeconds, lufs(a.before),
                            lufs(a.after));
            }
            {
                AnalysisOptions ao;
                const auto t0 = std::chrono::steady_clock::now();
                masterFile(input, out, s, *sel.backend, {});
                const double master = since(t0);
                const AnalysisResult before = analyzeFile(input, ao, *sel.backend);
                const AnalysisResult after = analyzeFile(out, ao, *sel.backend);
                const double wall = since(t0);
                std::printf("analyses %-14s: %.3f s (of which the two analyses after the master %.3f s)  "
                            "mix %.4f LUFS, master %.4f LUFS\n",
                            "files after", wall, wall - master, lufs(before), lufs(after));
            }
            std::fflush(stdout);
        }
        std::filesystem::remove_all(dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "master_analyses: %s\n", e.what());
        return 1;
    }
    return 0;
}
