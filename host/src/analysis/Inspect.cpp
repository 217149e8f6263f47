// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/ChannelStats.h>
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
    if (const Frames bad = nonFiniteOf(out.stats); bad > 0) {
        const SamplePosition first = firstNonFiniteOf(out.stats);
        out.warnings.push_back(std::to_string(bad) + " non-finite samples (NaN/Inf), the first at frame " +
                               std::to_string(first.frame) + ", channel " +
                               std::to_string(first.channel + 1));
    }
    if (peakOf(out.stats) > 1.0f) {
        out.warnings.push_back("samples above 0 dBFS (peak " + formatDb(amplitudeToDb(peakOf(out.stats))) +
                               "): integer export would clip");
    }
    return out;
}

} // namespace lathe
