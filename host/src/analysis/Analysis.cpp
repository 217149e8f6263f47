// SPDX-License-Identifier: GPL-3.0-or-later
// One read of the file feeds every analysis: the loudness meter drives the reading and hands each
// block to the spectral analyser and the sample scanner on the way.
#include <lathe/Analysis.h>
#include <lathe/Error.h>

#include <cmath>
#include <memory>

namespace lathe {
namespace {

/// Samples within one 16-bit step of full scale count as "at the ceiling".
constexpr float kClipLevel = 1.0f - 1.0f / 32768.0f;
/// Three or more in a row make a clipped run (a waveform passes its peak in one sample).
constexpr int kClipRunSamples = 3;
/// Runs closer than this are reported as one time range.
constexpr double kClipMergeSeconds = 0.5;

/// Sample-by-sample facts: clipped runs and the effective bit depth.
class SampleScanner {
public:
    SampleScanner(int channels, SampleRate fs)
        : m_runLength(static_cast<std::size_t>(channels), 0), m_fs(fs) {}

    /// `stats` are the block's per-channel statistics (the loudness meter computed them anyway).
    void add(const AudioBuffer& block, Frames position, std::span<const math::SampleStats> stats) {
        for (int c = 0; c < block.channels(); ++c) {
            const float* x = block.channel(c);
            const Frames n = block.frames();
            Frames& run = m_runLength[static_cast<std::size_t>(c)];
            if (stats[static_cast<std::size_t>(c)].peakAbs >= kClipLevel) { // anything at the ceiling at all?
                for (Frames i = 0; i < n; ++i) {
                    if (std::fabs(x[i]) >= kClipLevel) {
                        ++run;
                        if (run == kClipRunSamples) {
                            noteRun(position + i - (kClipRunSamples - 1));
                            m_scan.clippedSamples += kClipRunSamples;
                        } else if (run > kClipRunSamples) {
                            ++m_scan.clippedSamples;
                        }
                    } else {
                        run = 0;
                    }
                }
            } else {
                run = 0;
            }
            // Effective bit depth: stop looking once a sample is off the grid.
            if (m_scan.on16BitGrid) {
                bool off16 = false;
                bool off8 = false;
                for (Frames i = 0; i < n; ++i) {
                    // Clamp before converting: a float→int conversion out of range is undefined.
                    const float v16 = std::fmin(std::fmax(x[i] * 32768.0f, -1.0e9f), 1.0e9f);
                    const float v8 = std::fmin(std::fmax(x[i] * 128.0f, -1.0e9f), 1.0e9f);
                    off16 |=
                        v16 != static_cast<float>(static_cast<std::int32_t>(v16)) || x[i] * 32768.0f != v16;
                    off8 |= v8 != static_cast<float>(static_cast<std::int32_t>(v8));
                }
                m_scan.on16BitGrid = !off16;
                m_scan.on8BitGrid = m_scan.on8BitGrid && !off8;
            }
        }
    }

    SampleScan result() const { return m_scan; }

private:
    void noteRun(Frames start) {
        ++m_scan.clipRuns;
        const double t = static_cast<double>(start) / m_fs;
        if (!m_scan.clipRanges.empty() && t - m_scan.clipRanges.back().endSeconds < kClipMergeSeconds) {
            m_scan.clipRanges.back().endSeconds = std::max(m_scan.clipRanges.back().endSeconds, t + 0.001);
        } else if (m_scan.clipRanges.size() < 100) {
            m_scan.clipRanges.push_back({t, t + 0.001});
        }
    }

    std::vector<Frames> m_runLength;
    SampleRate m_fs;
    SampleScan m_scan;
};

} // namespace

AnalysisResult analyzeSource(AudioSource& source, const AnalysisOptions& options, Backend& backend,
                             const JobControl& control) {
    AnalysisResult a;
    a.spectral = options.spectral;
    a.smoothingFraction = options.smoothingFraction;
    std::unique_ptr<SpectralAnalyzer> spectral;
    if (options.spectral) {
        spectral = std::make_unique<SpectralAnalyzer>(source.sampleRate(), source.channelLayout(),
                                                      source.totalFrames(), options.spectrum, &backend);
    }
    SampleScanner scanner(source.channelCount(), source.sampleRate());
    LoudnessOptions lo = options.loudness;
    const auto userTap = options.loudness.blockTap;
    lo.blockTap = [&](const AudioBuffer& block, Frames position, std::span<const math::SampleStats> stats) {
        if (spectral) {
            spectral->add(block);
        }
        scanner.add(block, position, stats);
        if (userTap) {
            userTap(block, position, stats);
        }
    };
    a.loudness = measureLoudness(source, lo, backend, control);
    if (spectral) {
        spectral->finish();
        a.spectrum = spectral->spectrum();
        a.spectrogram = spectral->spectrogram();
        a.stereo = spectral->stereo();
    }
    a.scan = scanner.result();
    if (a.loudness.frames == 0) {
        a.scan.on16BitGrid = false; // no samples: no evidence of anything
        a.scan.on8BitGrid = false;
    }
    return a;
}

AnalysisResult analyzeFile(const std::filesystem::path& path, const AnalysisOptions& options,
                           Backend& backend, const JobControl& control) {
    AudioReader reader(path, options.loudness.reader);
    AnalysisResult a = analyzeSource(reader, options, backend, control);
    a.file = reader.info(); // as read: the reader may have learnt more while reading (an early end)
    a.findings = assessReadiness(a);
    return a;
}

} // namespace lathe
