// SPDX-License-Identifier: GPL-3.0-or-later
#include "StageRender.h"

#include "MultibandRender.h"

#include <lathe/ChainSource.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace lathe::test {

AudioBuffer renderStage(Stage& stage, const Planar& in, SampleRate fs, const ChannelLayout& layout,
                        Frames block, nlohmann::json& report) {
    StreamFormat f;
    f.sampleRate = fs;
    f.channels = static_cast<int>(in.size());
    f.layout = layout;
    stage.prepare(f, block);
    const auto total = in.empty() ? Frames{0} : static_cast<Frames>(in[0].size());
    AudioBuffer all(f.channels, 0);
    AudioBuffer piece(f.channels, block);
    AudioBuffer out;
    for (Frames at = 0; at < total; at += block) {
        const Frames n = std::min(block, total - at);
        piece.setFrames(n);
        for (int c = 0; c < f.channels; ++c) {
            std::copy_n(in[static_cast<std::size_t>(c)].begin() + at, n, piece.channel(c));
        }
        stage.process(piece, out);
        all.append(out, 0, out.frames());
    }
    do {
        stage.flush(out);
        all.append(out, 0, out.frames());
    } while (out.frames() > 0);
    report = stage.report();
    return all;
}

std::vector<LimiterCase> limiterPassCases() {
    LimiterSpec hot; // +6 dB into −1 dBTP: limiting most of the time
    hot.inputGainDb = 6.0;
    hot.verify = false;
    LimiterSpec slow = hot; // a longer look-ahead and release
    slow.lookaheadMs = 5.0;
    slow.releaseMs = 400.0;
    slow.ceilingDbtp = -2.0;
    constexpr Frames kCall = Frames{1} << 20; // LimiterStage's backend call
    return {
        {"48 kHz stereo, noise bursts, 3 s", 48000, 2, 3 * 48000, "bursts", hot},
        {"48 kHz stereo, past one backend call", 48000, 2, kCall + 4801, "bursts", hot},
        {"44.1 kHz mono, near-Nyquist tone", 44100, 1, 44100 + 17, "nyquist", hot},
        {"96 kHz stereo, long look-ahead and release", 96000, 2, 96000 + 5, "bursts", slow},
        {"192 kHz 5.1, 0.2 s", 192000, 6, 38400 + 3, "bursts", hot},
        {"48 kHz stereo, silence", 48000, 2, 48000, "silence", hot},
        {"48 kHz stereo, one frame", 48000, 2, 1, "bursts", hot},
        {"48 kHz stereo, empty", 48000, 2, 0, "bursts", hot},
        {"48 kHz stereo, odd length 4799", 48000, 2, 4799, "bursts", hot},
    };
}

Planar limiterCaseSignal(const LimiterCase& c) {
    Planar x(static_cast<std::size_t>(c.channels));
    for (int ch = 0; ch < c.channels; ++ch) {
        auto& v = x[static_cast<std::size_t>(ch)];
        const std::string signal = c.signal;
        if (signal == "silence") {
            v.assign(static_cast<std::size_t>(c.frames), 0.0f);
        } else if (signal == "nyquist") {
            v = sine(0.45 * c.fs, 0.9, c.fs, c.frames, 0.3 * ch);
        } else {
            // Full-scale noise, 50 ms on, 150 ms at −26 dB: the gain falls and releases in turn.
            v = noise(c.frames, 1.0, 90 + static_cast<std::uint64_t>(ch));
            for (Frames n = 0; n < c.frames; ++n) {
                if ((n * 20 / c.fs) % 4 != 0) {
                    v[static_cast<std::size_t>(n)] *= 0.05f;
                }
            }
        }
    }
    return x;
}

LimiterRuns renderLimiterCase(const LimiterCase& c, Backend& backend, unsigned threads, Frames block) {
    const Planar x = limiterCaseSignal(c);
    const ChannelLayout layout = layoutFor(c.channels);
    LimiterStage onBackend(c.spec, threads, &backend);
    LimiterStage reference(c.spec, threads);
    LimiterRuns r;
    r.got = renderStage(onBackend, x, c.fs, layout, block, r.gotReport);
    r.want = renderStage(reference, x, c.fs, layout, block, r.wantReport);
    return r;
}

namespace {

/// Blocks of this many frames: odd, so that they cross every other block size (a batch, a staging
/// block) anywhere.
constexpr Frames kOddBlock = 30011;

/// `x` handed to `take` in blocks of kOddBlock frames (the last shorter).
template <typename Take> void inOddBlocks(const Planar& x, Take take) {
    const int channels = static_cast<int>(x.size());
    const auto frames = channels > 0 ? static_cast<Frames>(x[0].size()) : Frames{0};
    AudioBuffer block(channels, kOddBlock);
    for (Frames at = 0; at < frames; at += kOddBlock) {
        const Frames n = std::min(kOddBlock, frames - at);
        block.setFrames(n);
        for (int ch = 0; ch < channels; ++ch) {
            std::copy_n(x[static_cast<std::size_t>(ch)].begin() + at, n, block.channel(ch));
        }
        take(block);
    }
}

} // namespace

std::vector<LimiterCase> trialCases() {
    const std::vector<LimiterCase> all = limiterPassCases();
    std::vector<LimiterCase> cases;
    for (const std::size_t pick :
         {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{6}, std::size_t{7}}) {
        LimiterCase c = all[pick];
        if (pick == 1) {
            c.what = "48 kHz stereo, three backend calls and a part";
            c.frames = 3 * (Frames{1} << 20) + 4801;
        }
        c.spec.verify = false;
        c.spec.inputGainDb = 4.5; // the drive is applied where the trial runs
        cases.push_back(c);
    }
    return cases;
}

namespace {

LoudnessOptions trialMeter() {
    LoudnessOptions o;
    o.truePeak = false;
    o.threads = 1;
    return o;
}

} // namespace

LoudnessResult renderedTrial(const LimiterCase& c, Backend& backend) {
    LimiterStage stage(c.spec, 1, &backend);
    MemorySource source(limiterCaseSignal(c), c.fs, layoutFor(c.channels));
    ChainSource chain(source, {&stage});
    return measureLoudness(chain, trialMeter(), backend);
}

std::optional<LoudnessResult> heldTrial(const LimiterCase& c, Backend& backend) {
    const Planar x = limiterCaseSignal(c);
    const ChannelLayout layout = layoutFor(c.channels);
    const std::unique_ptr<ResidentAudio> held = backend.makeResident(c.channels, c.frames);
    if (!held) {
        return std::nullopt;
    }
    inOddBlocks(x, [&](const AudioBuffer& block) { held->append(block); });
    held->finish();
    LimiterStage stage(c.spec, 1, &backend);
    stage.prepare(StreamFormat{c.fs, c.channels, layout, 0}, kOddBlock);
    const std::optional<LimiterTrialPass> pass = stage.backendPass();
    if (!pass) {
        return std::nullopt;
    }
    LoudnessParams params = LoudnessParams::forRate(c.fs);
    params.truePeak = false;
    const Frames chunkFrames =
        backend.loudnessFeed(c.channels, params.stepFrames, 1).chunkSteps * params.stepFrames;
    return loudnessFromRecords(params, channelWeights(layout, false, c.what),
                               backend.trialLoudness(*held, *pass, params, chunkFrames), c.frames);
}

std::vector<SpectrumCase> spectrumCases() {
    return {
        {"48 kHz stereo, 3 batches and a part", 48000, 2, 48000 * 75 + 123, false},
        {"44.1 kHz mono, 7 s", 44100, 1, 44100 * 7 + 1, false},
        {"96 kHz 5.1, 3 s", 96000, 6, 96000 * 3, false},
        {"192 kHz stereo, 2 s", 192000, 2, 192000 * 2 + 7, false},
        {"48 kHz stereo, shorter than a frame", 48000, 2, 5000, false},
        {"48 kHz stereo, silence", 48000, 2, 48000 * 4, true},
    };
}

SpectrumRun analyzeSpectrumCase(const SpectrumCase& c, Backend* backend) {
    const ChannelLayout layout = layoutFor(c.channels);
    SpectralAnalyzer analyzer(c.fs, layout, c.frames, SpectrumSettings{}, backend);
    // Per channel: noise and a tone (so every curve, mid and side differ), fed in odd blocks.
    Planar x(static_cast<std::size_t>(c.channels));
    for (int ch = 0; ch < c.channels; ++ch) {
        auto& v = x[static_cast<std::size_t>(ch)];
        v = noise(c.frames, c.silent ? 0.0 : 0.3, 60 + static_cast<std::uint64_t>(ch));
        const auto tone = sine(997.0 * (ch + 1), c.silent ? 0.0 : 0.5, c.fs, c.frames);
        for (std::size_t i = 0; i < v.size(); ++i) {
            v[i] += tone[i];
        }
    }
    inOddBlocks(x, [&](const AudioBuffer& block) { analyzer.add(block); });
    analyzer.finish();
    return {analyzer.spectrum(), analyzer.spectrogram()};
}

SpectrumParity spectrumParity(const SpectrumCase& c, Backend& backend) {
    const SpectrumRun got = analyzeSpectrumCase(c, &backend);
    const SpectrumRun want = analyzeSpectrumCase(c, nullptr);
    SpectrumParity p;
    p.sameShape = got.spectrum.framesAveraged == want.spectrum.framesAveraged &&
                  got.spectrogram.columns == want.spectrogram.columns;
    if (p.sameShape) {
        p.spectra = relativeL2(got.spectrum.power, want.spectrum.power);
        p.cells = relativeL2(spectrogramPowers(got.spectrogram), spectrogramPowers(want.spectrogram));
    }
    return p;
}

double relativeL2(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
    double e = 0.0;
    double s = 0.0;
    for (std::size_t c = 0; c < b.size(); ++c) {
        for (std::size_t k = 0; k < b[c].size(); ++k) {
            const double d = a.at(c).at(k) - b[c][k];
            e += d * d;
            s += b[c][k] * b[c][k];
        }
    }
    return s > 0.0 ? std::sqrt(e / s) : (e > 0.0 ? 1.0 : 0.0);
}

std::vector<std::vector<double>> spectrogramPowers(const Spectrogram& g) {
    std::vector<std::vector<double>> p(2);
    for (const float db : g.maxDb) {
        p[0].push_back(std::pow(10.0, db / 10.0)); // −∞ dB: 0
    }
    for (const float db : g.meanDb) {
        p[1].push_back(std::pow(10.0, db / 10.0));
    }
    return p;
}

} // namespace lathe::test
