// Lathe fuzz target: any bytes as an audio file → `lathe info` and `lathe analyze` (inspection,
// loudness, spectrum, stereo, readiness). The only acceptable outcomes are a result or a
// lathe::Error (a clear message); a crash, a sanitizer report, any other exception or a hang is
// a finding.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "FuzzInput.h"

#include <lathe/Analysis.h>
#include <lathe/AudioReader.h>
#include <lathe/Error.h>
#include <lathe/Inspect.h>

namespace {

/// Longer decoded inputs are only inspected: a few KiB of FLAC can hold hours of silence, and the
/// fuzzer wants many executions a second, not one long analysis.
constexpr lathe::Frames kAnalyseAtMostFrames = 20 * 48000;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto cpu = lathe::makeCpuBackend();
    lathe::fuzz::MemoryFile file(data, size);
    try {
        const lathe::AudioReader::Options options;
        lathe::Frames frames = 0;
        {
            lathe::AudioReader reader(file.path(), options);
            frames = reader.info().frames;
        }
        if (frames > kAnalyseAtMostFrames) {
            return 0;
        }
        lathe::inspectFile(file.path(), options, *cpu);
        lathe::AnalysisOptions ao;
        ao.loudness.threads = 1;
        lathe::analyzeFile(file.path(), ao, *cpu);
    } catch (const lathe::Error&) {
        // refused with a message: what bad input should get
    }
    return 0;
}
