// Lathe tests: a multiband stage run by hand over a generated programme (the parity suites compare
// backends and the emulated kernels with it).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "TestSignals.h"

#include <lathe/AudioBuffer.h>
#include <lathe/Backend.h>
#include <lathe/ChannelLayout.h>
#include <lathe/MultibandStage.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <vector>

namespace lathe::test {

/// Per channel: noise plus a tone (220·(c+1) Hz), in sections of `sectionSeconds` at 0, −18, −6
/// and −30 dB in turn, so the detectors attack and release and every band has material.
Planar sectionedProgramme(SampleRate fs, int channels, double seconds, double sectionSeconds);

/// 5.1 for six channels, the convention otherwise.
ChannelLayout layoutFor(int channels);

/// The settings the parity suites run the multiband stage with: peak and RMS detectors, stereo
/// links of 100/50/0 %, mid/side, every curve with knees, makeup and range, a bypassed and a
/// soloed band, mono, stereo and 5.1, 48 and 96 kHz.
struct MultibandCase {
    const char* what;
    SampleRate fs;
    int channels;
    double seconds;
    std::function<void(MultibandSpec&)> set;
};
std::vector<MultibandCase> multibandCases();

/// A MultibandStage on `backend` over `in`, fed in blocks of `block` frames, then flushed; its
/// report into `report`.
AudioBuffer renderMultiband(Backend& backend, const MultibandSpec& spec, const Planar& in, SampleRate fs,
                            const ChannelLayout& layout, Frames block, nlohmann::json& report);

} // namespace lathe::test
