// Lathe fuzz target: any bytes as a preset file → validation → the chain built, prepared and run
// on a short block. A valid preset must also survive its own round trip (toJson → parse). The
// only acceptable outcomes are a result or a lathe::Error.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "FuzzInput.h"

#include <lathe/Error.h>
#include <lathe/Preset.h>

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto cpu = lathe::makeCpuBackend();
    const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
    if (j.is_discarded()) {
        return 0; // not JSON: loadPresetDocument refuses it before validation
    }
    try {
        const lathe::PresetDocument doc{j, "fuzz", "/nonexistent"};
        const lathe::Preset preset = lathe::parsePreset(doc);
        // What the report records must parse back as a preset.
        const lathe::PresetDocument resolved{lathe::toJson(preset), "fuzz", "/nonexistent"};
        try {
            lathe::parsePreset(resolved);
        } catch (const lathe::Error& e) {
            std::fprintf(stderr, "a valid preset's resolved form does not parse: %s\n", e.what());
            std::abort();
        }
        auto stages = lathe::buildStages(preset, *cpu, 1);
        lathe::fuzz::runStages(stages, 4096, [](int c, lathe::Frames i) {
            return static_cast<float>((i * 7919 + c * 104729) % 2001 - 1000) / 1000.0f; // a fixed noise
        });
    } catch (const lathe::Error&) {
        // refused with a message
    }
    return 0;
}
