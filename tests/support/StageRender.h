// Lathe tests: a stage run by hand over a generated programme, and the limiter cases the parity
// suites run (the backends and the emulated kernels against the stage's own host code).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "TestSignals.h"

#include <lathe/AudioBuffer.h>
#include <lathe/Backend.h>
#include <lathe/ChannelLayout.h>
#include <lathe/LimiterStage.h>
#include <lathe/Stage.h>

#include <nlohmann/json.hpp>

#include <vector>

namespace lathe::test {

/// `stage` prepared for `in` (one vector per channel) and fed it in blocks of `block` frames, then
/// flushed until it gives nothing more; its report into `report`.
AudioBuffer renderStage(Stage& stage, const Planar& in, SampleRate fs, const ChannelLayout& layout,
                        Frames block, nlohmann::json& report);

/// The unverified limiter (the loudness trial's) over material it works hard on: full-scale noise
/// bursts and a near-Nyquist tone driven into the ceiling, silence, lengths 0, 1 and odd, a call
/// boundary of the backend pass (2^20 frames) crossed, mono, stereo and 5.1, 44.1–192 kHz.
struct LimiterCase {
    const char* what;
    SampleRate fs;
    int channels;
    Frames frames;
    const char* signal; ///< "bursts", "nyquist", "silence"
    LimiterSpec spec;
};
std::vector<LimiterCase> limiterPassCases();

/// The case's input signal.
Planar limiterCaseSignal(const LimiterCase& c);

/// The case through LimiterStage twice (`threads` each): with its pass on `backend`, and on the
/// host (the reference); both outputs and reports.
struct LimiterRuns {
    AudioBuffer got;
    AudioBuffer want;
    nlohmann::json gotReport;
    nlohmann::json wantReport;
};
LimiterRuns renderLimiterCase(const LimiterCase& c, Backend& backend, unsigned threads);

} // namespace lathe::test
