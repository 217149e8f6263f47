// Lathe fuzz target: any bytes as a speaker model — JSON (schema lathe-speaker) when it parses as
// JSON, otherwise a measured-response CSV — → validation, round trip, the model's stages built
// and run on a short block. The only acceptable outcomes are a result or a lathe::Error.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "FuzzInput.h"

#include <lathe/Error.h>
#include <lathe/Speakers.h>

#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto cpu = lathe::makeCpuBackend();
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        lathe::SpeakerModel m;
        if (!nlohmann::json::parse(text, nullptr, false).is_discarded()) {
            m = lathe::parseSpeakerModel(text, "fuzz.json");
            // A valid model must parse back from what `lathe speakers --json` prints.
            try {
                const lathe::SpeakerModel back =
                    lathe::parseSpeakerModel(lathe::toJson(m).dump(), "round trip");
                if (lathe::toJson(back) != lathe::toJson(m)) {
                    std::fprintf(stderr, "a model's JSON round trip changed it\n");
                    std::abort();
                }
            } catch (const lathe::Error& e) {
                std::fprintf(stderr, "a valid model's JSON does not parse: %s\n", e.what());
                std::abort();
            }
        } else {
            m = lathe::parseSpeakerCsv(text, "fuzz.csv");
        }
        lathe::SpeakerStageStats stats;
        auto stages = lathe::buildSpeakerStages(m, -14.0, *cpu, 1, stats);
        lathe::fuzz::runStages(stages, 4096, [](int c, lathe::Frames i) {
            return static_cast<float>((i * 7919 + c * 104729) % 2001 - 1000) / 1000.0f; // a fixed noise
        });
    } catch (const lathe::Error&) {
        // refused with a message
    }
    return 0;
}
