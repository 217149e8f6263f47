// Lathe tests: a stage run by hand over a generated programme, and the limiter cases the parity
// suites run (the backends and the emulated kernels against the stage's own host code).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "TestSignals.h"

#include <lathe/AudioBuffer.h>
#include <lathe/Backend.h>
#include <lathe/ChannelLayout.h>
#include <lathe/LimiterStage.h>
#include <lathe/Loudness.h>
#include <lathe/Spectrum.h>
#include <lathe/Stage.h>

#include <nlohmann/json.hpp>

#include <optional>
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

/// The case through LimiterStage twice (`threads` each, fed `block` frames at a time): with its
/// pass on `backend`, and on the host (the reference); both outputs and reports.
struct LimiterRuns {
    AudioBuffer got;
    AudioBuffer want;
    nlohmann::json gotReport;
    nlohmann::json wantReport;
};
LimiterRuns renderLimiterCase(const LimiterCase& c, Backend& backend, unsigned threads, Frames block = 65536);

/// The loudness targeting's trial over material it works hard on: limiterPassCases()' limiter,
/// unverified and driven by 4.5 dB, over three whole backend calls and a part at 48 kHz, a
/// near-Nyquist tone at 44.1 kHz mono, 5.1 at 192 kHz, one frame and none.
std::vector<LimiterCase> trialCases();
/// The trial of `c` on `backend` rendered block by block: the limiter stage through ChainSource,
/// measured by measureLoudness (no true peak, one thread), as the master's trial below 4 threads.
LoudnessResult renderedTrial(const LimiterCase& c, Backend& backend);
/// The trial of `c` on audio `backend` holds (makeResident, filled in odd blocks; trialLoudness in
/// measureLoudness's chunks; loudnessFromRecords). nullopt when it holds none.
std::optional<LoudnessResult> heldTrial(const LimiterCase& c, Backend& backend);

/// The spectral analyzer over signals that reach every path: several backend batches (128 frames
/// at 48 kHz stereo, fewer at higher rates and more channels) and a partial one, files shorter than a frame
/// (edge frames only), odd lengths, silence, mono, stereo (mid/side curves) and 5.1, 44.1–192 kHz.
struct SpectrumCase {
    const char* what;
    SampleRate fs;
    int channels;
    Frames frames;
    bool silent;
};
std::vector<SpectrumCase> spectrumCases();

/// The case analysed by SpectralAnalyzer with its frames on `backend` (nullptr: on the host).
struct SpectrumRun {
    LongTermSpectrum spectrum;
    Spectrogram spectrogram;
};
SpectrumRun analyzeSpectrumCase(const SpectrumCase& c, Backend* backend);

/// The case on `backend` against the host: whether the frames averaged and the spectrogram's
/// columns agree, and the relative L2 differences of the spectra and of the spectrogram's cells.
struct SpectrumParity {
    bool sameShape = false;
    double spectra = 0.0;
    double cells = 0.0;
};
SpectrumParity spectrumParity(const SpectrumCase& c, Backend& backend);

/// Relative L2 difference of two sets of powers (the spectra's curves, or a spectrogram's cells as
/// powers): ‖a − b‖ / ‖b‖ over all of them (0 when both are silent).
double relativeL2(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b);
/// A spectrogram's max and mean cells as powers (from their dB), for relativeL2.
std::vector<std::vector<double>> spectrogramPowers(const Spectrogram& g);

} // namespace lathe::test
