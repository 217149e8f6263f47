// SPDX-License-Identifier: GPL-3.0-or-later
// The limiter stage alone, in memory, at several thread counts: how much its parallel passes give
// (or cost) on a machine. Usage: limiter_threads FILE DRIVE_DB THREADS...
// Prints, per thread count, the seconds of process + flush over the whole file (the file is read
// into memory first, so no I/O is timed), a hash of the output and whether it equals the first
// run's, and the stage's parallel segments (how many, and the chunks the merge computed again).
#include <lathe/AudioReader.h>
#include <lathe/LimiterStage.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

using namespace lathe;

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s FILE DRIVE_DB THREADS...\n", argv[0]);
        return 2;
    }
    try {
        AudioReader reader(argv[1]);
        const StreamFormat format{reader.sampleRate(), reader.channelCount(), reader.channelLayout()};
        constexpr Frames kBlock = 65536;
        std::vector<AudioBuffer> blocks;
        for (;;) {
            AudioBuffer b;
            if (reader.read(b, kBlock) == 0) {
                break;
            }
            blocks.push_back(std::move(b));
        }
        std::vector<float> first;
        for (int i = 3; i < argc; ++i) {
            const auto threads = static_cast<unsigned>(std::atoi(argv[i]));
            LimiterSpec spec;
            spec.inputGainDb = std::atof(argv[2]);
            LimiterStage stage(spec, threads);
            stage.prepare(format, kBlock);
            // Room for the whole output, its pages touched, before the clock starts: growing it
            // inside the timed loop cost page faults and copies that were a fifth of the "limiter"
            // time, and a reserve() alone still left the first write of every page to fault there.
            std::vector<float> out0(static_cast<std::size_t>(reader.totalFrames()) + 1024, 0.0f);
            std::size_t kept = 0;
            AudioBuffer out;
            const auto t0 = std::chrono::steady_clock::now();
            auto keep = [&] {
                std::copy_n(out.channel(0), out.frames(), out0.begin() + static_cast<std::ptrdiff_t>(kept));
                kept += static_cast<std::size_t>(out.frames());
            };
            for (const AudioBuffer& b : blocks) {
                stage.process(b, out);
                keep();
            }
            do {
                stage.flush(out);
                keep();
            } while (out.frames() > 0);
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            out0.resize(kept);
            if (first.empty()) {
                first = out0;
            }
            // FNV-1a of the first channel's bits: runs of other builds or settings compare by it.
            std::uint64_t hash = 14695981039346656037ull;
            for (const float v : out0) {
                std::uint32_t bits = 0;
                std::memcpy(&bits, &v, sizeof bits);
                hash = (hash ^ bits) * 1099511628211ull;
            }
            const LimiterStage::SegmentStats seg = stage.segmentStats();
            std::printf("limiter, %+.0f dB, %2u thread(s): %.3f s  output %016llx  segments %lld "
                        "(%lld chunks, %lld computed again)%s\n",
                        spec.inputGainDb, threads, s, static_cast<unsigned long long>(hash),
                        static_cast<long long>(seg.segments), static_cast<long long>(seg.chunks),
                        static_cast<long long>(seg.recomputed),
                        out0 == first ? "" : "  (output differs from the first run's!)");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "limiter_threads: %s\n", e.what());
        return 1;
    }
    return 0;
}
