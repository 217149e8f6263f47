// SPDX-License-Identifier: GPL-3.0-or-later
#include "MultibandRender.h"

#include "StageRender.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace lathe::test {

Planar sectionedProgramme(SampleRate fs, int channels, double seconds, double sectionSeconds) {
    const auto frames = static_cast<Frames>(seconds * fs);
    const auto section = static_cast<Frames>(sectionSeconds * fs);
    Planar x;
    for (int c = 0; c < channels; ++c) {
        std::vector<float> v = noise(frames, 0.5, 90 + static_cast<std::uint64_t>(c));
        const auto tone = sine(220.0 * (c + 1), 0.3, fs, frames);
        for (Frames i = 0; i < frames; ++i) {
            const double gainDb = std::array<double, 4>{0.0, -18.0, -6.0, -30.0}[(i / section) % 4];
            const auto u = static_cast<std::size_t>(i);
            v[u] = static_cast<float>((v[u] + tone[u]) * std::pow(10.0, gainDb / 20.0));
        }
        x.push_back(std::move(v));
    }
    return x;
}

std::vector<MultibandCase> multibandCases() {
    return {
        {"default (4 bands, peak, linked)", 48000, 2, 14.0, [](MultibandSpec&) {}},
        {"RMS, 50 % link, mid/side, every curve", 48000, 2, 9.0,
         [](MultibandSpec& s) {
             s.detector = DetectorKind::Rms;
             s.stereoLinkPercent = 50.0;
             s.midSide = true;
             s.bands[0] = {DynamicsMode::Expander, -35.0, 2.0, 6.0, 3.0, 80.0, 1.5, 12.0};
             s.bands[1] = {DynamicsMode::Compressor, -24.0, 3.0, 0.0, 1.0, 40.0, 2.0, 24.0};
             s.bands[2] = {DynamicsMode::Upward, -30.0, 2.0, 10.0, 20.0, 300.0, -1.0, 6.0};
             s.bands[3] = {DynamicsMode::Compressor, -18.0, 8.0, 4.0, 0.5, 20.0, 0.0, 3.0};
         }},
        {"mono, unlinked", 48000, 1, 6.0, [](MultibandSpec& s) { s.stereoLinkPercent = 0.0; }},
        {"5.1, 70 % link, a band bypassed", 48000, 6, 6.0,
         [](MultibandSpec& s) {
             s.stereoLinkPercent = 70.0;
             s.bands[1].bypass = true;
         }},
        {"stereo, a band soloed, unlinked", 48000, 2, 6.0,
         [](MultibandSpec& s) {
             s.stereoLinkPercent = 0.0;
             s.bands[2].solo = true;
         }},
        {"96 kHz, RMS, linked", 96000, 2, 5.0, [](MultibandSpec& s) { s.detector = DetectorKind::Rms; }},
    };
}

ChannelLayout layoutFor(int channels) {
    return channels == 6 ? parseChannelLayout("5.1") : ChannelLayout::fromConvention(channels);
}

AudioBuffer renderMultiband(Backend& backend, const MultibandSpec& spec, const Planar& in, SampleRate fs,
                            const ChannelLayout& layout, Frames block, nlohmann::json& report) {
    MultibandStage stage(spec, backend, ConvolverOptions{4096, 2});
    return renderStage(stage, in, fs, layout, block, report);
}

} // namespace lathe::test
