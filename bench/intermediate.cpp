// SPDX-License-Identifier: GPL-3.0-or-later
// A targeted master (the default preset, its −14 LUFS target) with its intermediate — the chain
// before the limiter — held in memory against one in a temporary float file, alternating in one
// invocation. Usage: intermediate FILE ROUNDS [BACKEND [THREADS]] (BACKEND cpu|cuda|auto, default
// auto; THREADS 0 = every hardware thread). Prints each master's wall time and steps (the
// pre-limiter render, its measurement, the trial, the passes), real-time factor and a hash of the
// output, which must be the same both ways.
#include <lathe/Backend.h>
#include <lathe/Master.h>
#include <lathe/gpu/Gpu.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

using namespace lathe;

namespace {

/// FNV-1a of a file's bytes.
std::uint64_t hashFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::uint64_t hash = 14695981039346656037ull;
    for (std::istreambuf_iterator<char> it(in), end; it != end; ++it) {
        hash = (hash ^ static_cast<unsigned char>(*it)) * 1099511628211ull;
    }
    return hash;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s FILE ROUNDS [cpu|cuda|auto [THREADS]]\n", argv[0]);
        return 2;
    }
    try {
        const std::filesystem::path input = argv[1];
        const int rounds = std::atoi(argv[2]);
        BackendRegistry registry;
        gpu::registerCudaBackend(registry);
        BackendRegistry::Selection sel = registry.select(argc > 3 ? argv[3] : "auto");
        MasterSettings s;
        s.preset = parsePreset(loadPresetDocument("default"));
        s.target = presetTarget(s.preset);
        s.threads = argc > 4 ? static_cast<unsigned>(std::atoi(argv[4])) : 0;
        const std::filesystem::path dir =
            std::filesystem::temp_directory_path() / ("lathe-intermediate-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        std::printf("%s on %s (%s), %u thread(s)\n", input.filename().c_str(),
                    std::string(sel.backend->name()).c_str(), sel.reason.c_str(), s.threads);
        std::uint64_t first = 0;
        for (int round = 0; round < rounds; ++round) {
            for (const bool inMemory : {true, false}) {
                s.intermediateMemoryBytes =
                    inMemory ? std::optional<std::uint64_t>{} : std::optional<std::uint64_t>{0};
                const auto out = dir / "master.wav";
                TargetingReport t;
                const auto t0 = std::chrono::steady_clock::now();
                const RenderReport r = masterFile(input, out, s, *sel.backend, {}, &t);
                const double wall =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                const std::uint64_t hash = hashFile(out);
                first = first == 0 ? hash : first;
                double passes = 0;
                for (const auto& p : t.passes) {
                    passes += p.seconds;
                }
                std::printf(
                    "intermediate in %-6s (%.2f GB): master %.3f s (%.0fx real time) = pre-limiter %.3f "
                    "+ measure %.3f + trial %.3f + %zu pass(es) %.3f  output %016llx%s\n",
                    t.intermediateInMemory ? "memory" : "a file",
                    static_cast<double>(t.intermediateBytes) / 1e9, wall,
                    static_cast<double>(r.inputFrames) / r.inputRate / wall, t.preLimiterRenderSeconds,
                    t.preLimiterMeasureSeconds, t.trialSeconds, t.passes.size(), passes,
                    static_cast<unsigned long long>(hash), hash == first ? "" : "  (differs!)");
                std::fflush(stdout);
            }
        }
        std::filesystem::remove_all(dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "intermediate: %s\n", e.what());
        return 1;
    }
    return 0;
}
