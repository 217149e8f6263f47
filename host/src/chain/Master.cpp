// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/Error.h>
#include <lathe/Master.h>
#include <lathe/ResampleStage.h>

#include <algorithm>
#include <thread>

namespace lathe {

RenderOptions resolveMasterOptions(const AudioFileInfo& input, const std::filesystem::path& output,
                                   const MasterSettings& settings) {
    ConvertSettings c;
    c.container = settings.container;
    c.format = settings.format;
    c.dither = settings.dither;
    c.ditherSeed = settings.ditherSeed;
    c.nonFinite = settings.nonFinite;
    c.faults = settings.faults;
    RenderOptions o = resolveConvertOptions(input, output, c);
    if (!settings.format) {
        // A master carries more than its source's bits (gain, filters): 24-bit unless the source
        // is float and the container can hold float. 16-bit only when asked (with dither).
        const bool floatSource = input.encoding == Encoding::Float32 || input.encoding == Encoding::Float64;
        o.format =
            floatSource && o.container != Container::Flac ? SampleFormat::Float32 : SampleFormat::Pcm24;
    }
    o.tail = settings.tail;
    return o;
}

RenderReport masterFile(const std::filesystem::path& input, const std::filesystem::path& output,
                        const MasterSettings& settings, Backend& backend, const JobControl& control) {
    AudioReader reader(input, settings.reader);
    const RenderOptions options = resolveMasterOptions(reader.info(), output, settings);
    const unsigned threads =
        settings.threads > 0 ? settings.threads : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::unique_ptr<Stage>> stages = buildStages(settings.preset, backend, threads);
    if (settings.sampleRate && *settings.sampleRate != reader.info().sampleRate) {
        stages.push_back(std::make_unique<ResampleStage>(*settings.sampleRate, threads));
    }
    return render(reader, std::move(stages), output, options, backend, control);
}

} // namespace lathe
