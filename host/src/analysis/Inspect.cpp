// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/Error.h>
#include <lathe/Inspect.h>
#include <lathe/Text.h>

#include <chrono>
#include <cmath>
#include <limits>

namespace lathe {

double amplitudeToDb(double linear) {
    return linear > 0.0 ? 20.0 * std::log10(linear) : -std::numeric_limits<double>::infinity();
}

float FileInspection::peakAbs() const {
    float p = 0.0f;
    for (const auto& s : stats) {
        p = std::max(p, s.peakAbs);
    }
    return p;
}

Frames FileInspection::nonFiniteSamples() const {
    Frames n = 0;
    for (const auto& s : stats) {
        n += s.nonFiniteCount;
    }
    return n;
}

FileInspection inspectFile(const std::filesystem::path& path, const AudioReader::Options& options,
                           Backend& backend, const JobControl& control) {
    const auto t0 = std::chrono::steady_clock::now();
    AudioReader reader(path, options);
    FileInspection out;
    out.stats.assign(static_cast<std::size_t>(reader.info().channels), math::emptyStats());
    constexpr Frames kBlock = 65536;
    AudioBuffer block;
    Frames position = 0;
    for (;;) {
        if (control.cancel != nullptr && control.cancel->cancelled()) {
            throw CancelledError();
        }
        const Frames n = reader.read(block, kBlock);
        if (n == 0) {
            break;
        }
        backend.accumulateStats(block, position, out.stats);
        position += n;
        if (control.progress) {
            control.progress(
                Progress{"inspect", position, reader.info().frames,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
        }
    }
    out.info = reader.info();
    out.warnings = out.info.warnings;
    if (const Frames bad = out.nonFiniteSamples(); bad > 0) {
        Frames first = -1;
        int channel = -1;
        for (std::size_t c = 0; c < out.stats.size(); ++c) {
            const Frames f = out.stats[c].firstNonFinite;
            if (f >= 0 && (first < 0 || f < first)) {
                first = f;
                channel = static_cast<int>(c);
            }
        }
        out.warnings.push_back(std::to_string(bad) + " non-finite samples (NaN/Inf), the first at frame " +
                               std::to_string(first) + ", channel " + std::to_string(channel + 1));
    }
    if (out.peakAbs() > 1.0f) {
        out.warnings.push_back("samples above 0 dBFS (peak " + formatDb(amplitudeToDb(out.peakAbs())) +
                               "): integer export would clip");
    }
    return out;
}

} // namespace lathe
