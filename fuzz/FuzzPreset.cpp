// Lathe fuzz target: any bytes as a preset file → validation → the chain built, prepared and run
// on a short block. A valid preset must also survive its own round trip (toJson → parse). The
// only acceptable outcomes are a result or a lathe::Error.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/AudioBuffer.h>
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
        lathe::StreamFormat format;
        format.sampleRate = 48000;
        format.channels = 2;
        format.layout = lathe::ChannelLayout::fromConvention(2);
        lathe::AudioBuffer in(2, 4096);
        in.setFrames(4096);
        for (int c = 0; c < 2; ++c) {
            for (lathe::Frames i = 0; i < 4096; ++i) {
                in.channel(c)[i] = static_cast<float>((i * 7919 + c * 104729) % 2001 - 1000) / 1000.0f;
            }
        }
        std::vector<lathe::AudioBuffer> buffers(stages.size());
        for (auto& s : stages) {
            format = s->prepare(format, 4096);
        }
        const lathe::AudioBuffer* current = &in;
        for (std::size_t k = 0; k < stages.size(); ++k) {
            stages[k]->process(*current, buffers[k]);
            current = &buffers[k];
        }
    } catch (const lathe::Error&) {
        // refused with a message
    }
    return 0;
}
