// Lathe fuzz target: any bytes as a reverb's impulse-response file → the reverb stage designed,
// prepared and run on a short block (the IR's decoding, validation, rate conversion and
// normalisation). The only acceptable outcomes are a result or a lathe::Error.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "FuzzInput.h"

#include <lathe/Error.h>
#include <lathe/Preset.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto cpu = lathe::makeCpuBackend();
    lathe::fuzz::MemoryFile file(data, size);
    try {
        nlohmann::json j = {{"schema", "lathe.preset/1"},
                            {"name", "fuzz-ir"},
                            {"stages", {{{"type", "reverb"}, {"ir", file.path()}, {"wet_db", -20}}}}};
        const lathe::Preset preset = lathe::parsePreset({j, "fuzz", "/"});
        auto stages = lathe::buildStages(preset, *cpu, 1);
        lathe::fuzz::runStages(stages, 8192, [](int, lathe::Frames i) { return i == 0 ? 1.0f : 0.0f; });
    } catch (const lathe::Error&) {
        // refused with a message
    }
    return 0;
}
