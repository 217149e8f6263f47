// SPDX-License-Identifier: GPL-3.0-or-later
#include "../core/Simd.h"
#include "../core/ThreadPool.h"
#include "GainHistory.h"

#include <lathe/Error.h>
#include <lathe/MultibandStage.h>
#include <lathe/math/Dynamics.h>

#include <algorithm>
#include <cmath>
#include <thread>

namespace lathe {
namespace {

/// Time constant of the RMS detector's mean square.
constexpr double kRmsSeconds = 0.010;

math::CurveKind curveKindOf(DynamicsMode m) {
    switch (m) {
    case DynamicsMode::Compressor:
        return math::CurveKind::Compressor;
    case DynamicsMode::Expander:
        return math::CurveKind::Expander;
    case DynamicsMode::Upward:
        break;
    }
    return math::CurveKind::Upward;
}

/// Lanes of the explicit partial sums (a multiple of every SIMD width, so the sum vectorises
/// without reassociating anything the compiler would have to prove).
constexpr int kSumLanes = 8;

/// The static curve's gain for each smoothed level (math::bandGainDb) and its linear value. The
/// curve's constants in a local (a store to gainDb could alias a field), so the loop vectorises.
/// Always inlined, so that each of bandGains' target_clones versions has a loop of its own.
template <math::CurveKind Kind>
[[gnu::always_inline]] inline void gainsOf(const math::BandCurve curve, const double* level, Frames count,
                                           double* gainDb, double* gain) {
    for (Frames n = 0; n < count; ++n) {
        const double db = math::bandGainDb<Kind>(curve, level[n]);
        gainDb[n] = db;
        gain[n] = math::dbToLinear(db);
    }
}

LATHE_TARGET_CLONES void bandGains(const BandDynamics& b, const double* level, Frames count, double* gainDb,
                                   double* gain) {
    const math::CurveKind kind = curveKindOf(b.mode);
    const math::BandCurve curve =
        math::bandCurveOf(kind, b.thresholdDb, b.ratio, b.kneeDb, b.rangeDb, b.makeupDb);
    switch (kind) {
    case math::CurveKind::Compressor:
        gainsOf<math::CurveKind::Compressor>(curve, level, count, gainDb, gain);
        break;
    case math::CurveKind::Expander:
        gainsOf<math::CurveKind::Expander>(curve, level, count, gainDb, gain);
        break;
    case math::CurveKind::Upward:
        gainsOf<math::CurveKind::Upward>(curve, level, count, gainDb, gain);
        break;
    }
}

/// out[n] = gain[n]·x[n]; returns Σ gainDb (in kSumLanes partial sums) and lowers *minDb to the
/// smallest gainDb.
LATHE_TARGET_CLONES double applyGains(const float* x, const double* gain, const double* gainDb, Frames count,
                                      float* out, double* minDb) {
    for (Frames n = 0; n < count; ++n) {
        out[n] = static_cast<float>(gain[n] * x[n]);
    }
    double sums[kSumLanes] = {};
    double mins[kSumLanes];
    std::fill(mins, mins + kSumLanes, *minDb);
    Frames n = 0;
    for (; n + kSumLanes <= count; n += kSumLanes) {
        for (int l = 0; l < kSumLanes; ++l) {
            sums[l] += gainDb[n + l];
            mins[l] = std::min(mins[l], gainDb[n + l]);
        }
    }
    for (; n < count; ++n) {
        sums[0] += gainDb[n];
        mins[0] = std::min(mins[0], gainDb[n]);
    }
    double sum = 0.0;
    for (int l = 0; l < kSumLanes; ++l) {
        sum += sums[l];
        *minDb = std::min(*minDb, mins[l]);
    }
    return sum;
}

/// The detector of one band for C channels at once (C = 1, 2): level (|x| or √ of the one-pole
/// mean square), the stereo link, the decoupled release/attack stages — the same operations in the
/// same order as the per-channel passes in combine(), but one loop, so the channels' recursions
/// (the only sequential work) run side by side in the pipeline instead of one after the other.
/// Linked (a 100 % stereo link): every channel's detector input is the loudest level exactly
/// (1·loudest + 0·level), so their recursions are one — run once, written to smoothed[0] only.
/// And the loudest RMS level is √ of the larger mean square (√ is correctly rounded and monotone:
/// the same value to the bit), so a linked pair takes one square root a frame, not two (the loop
/// is bound by the square roots more than by the recursions: 7.7 → 5.4 ns a frame measured, 3.5
/// with none).
template <int C, bool Linked>
void detectTogether(const float* const* x, std::size_t frames, bool rms, double aRms, double link, double aR,
                    double aA, double* ms, double* y1, double* yL, double* const* smoothed) {
    double m[C], r1[C], rL[C];
    for (int c = 0; c < C; ++c) {
        m[c] = ms[c];
        r1[c] = y1[c];
        rL[c] = yL[c];
    }
    // The channel's detector input at frame n: its mean square (advanced) or |x|.
    auto input = [&](int c, std::size_t n) {
        const double v = x[c][n];
        if (rms) {
            m[c] = math::apply(math::onePoleStep(v * v, aRms), m[c]);
            return m[c];
        }
        return std::abs(v);
    };
    if constexpr (Linked) {
        for (std::size_t n = 0; n < frames; ++n) {
            double loudest = 0.0;
            for (int c = 0; c < C; ++c) {
                loudest = std::max(loudest, input(c, n));
            }
            if (rms) {
                loudest = std::sqrt(loudest);
            }
            r1[0] = math::apply(math::releaseStep(loudest, aR), r1[0]);
            rL[0] = math::apply(math::onePoleStep(r1[0], aA), rL[0]);
            smoothed[0][n] = rL[0];
        }
        for (int c = 0; c < C; ++c) {
            r1[c] = r1[0];
            rL[c] = rL[0];
        }
    } else {
        double level[C];
        for (std::size_t n = 0; n < frames; ++n) {
            double loudest = 0.0;
            for (int c = 0; c < C; ++c) {
                level[c] = rms ? std::sqrt(input(c, n)) : input(c, n);
                loudest = std::max(loudest, level[c]);
            }
            for (int c = 0; c < C; ++c) {
                const double det = link * loudest + (1.0 - link) * level[c];
                r1[c] = math::apply(math::releaseStep(det, aR), r1[c]);
                rL[c] = math::apply(math::onePoleStep(r1[c], aA), rL[c]);
                smoothed[c][n] = rL[c];
            }
        }
    }
    for (int c = 0; c < C; ++c) {
        ms[c] = m[c];
        y1[c] = r1[c];
        yL[c] = rL[c];
    }
}

} // namespace

MultibandStage::MultibandStage(MultibandSpec spec, Backend& backend, ConvolverOptions options,
                               design::DesignCache* designs)
    : ConvolutionStage(backend, options), m_spec(std::move(spec)), m_designs(designs),
      m_threads(detail::threadBudget(options.threads)) {}

MultibandStage::~MultibandStage() = default;

ConvolutionStage::Design MultibandStage::design(const StreamFormat& input) {
    const std::size_t bands = m_spec.splitsHz.size() + 1;
    LATHE_EXPECTS(m_spec.bands.size() == bands, "one dynamics setting per band");
    m_rate = input.sampleRate;
    m_channels = input.channels;
    m_crossover = m_designs != nullptr ? *m_designs->crossover(m_spec.splitsHz, m_spec.slopeDbPerOctave,
                                                               input.sampleRate, m_spec.taps, m_threads)
                                       : design::designCrossover(m_spec.splitsHz, m_spec.slopeDbPerOctave,
                                                                 input.sampleRate, m_spec.taps, m_threads);
    Design d;
    d.latency = m_crossover.delay;
    d.matrix.inputs = input.channels;
    d.matrix.outputs = input.channels * static_cast<int>(bands);
    for (const auto& band : m_crossover.bands) {
        d.matrix.filters.emplace_back(band.begin(), band.end());
    }
    for (int c = 0; c < input.channels; ++c) {
        for (int k = 0; k < static_cast<int>(bands); ++k) {
            d.matrix.paths.push_back({c, c * static_cast<int>(bands) + k, k});
        }
    }
    m_state.assign(static_cast<std::size_t>(input.channels) * bands, BandState{});
    m_detectors.assign(m_state.size(), BandDetectorState{});
    m_pool = std::make_unique<detail::ThreadPool>(m_threads);
    m_history.assign(bands, {});
    m_scratch.assign(bands, {});
    m_framesDone = 0;
    m_upstream = input.upstreamLatency;
    m_device.reset();
    if (backend().supports(Capability::Dynamics)) {
        MultibandParams p;
        p.channels = input.channels;
        p.bands = static_cast<int>(bands);
        p.rms = m_spec.detector == DetectorKind::Rms;
        p.aRms = math::onePoleCoefficient(kRmsSeconds, m_rate);
        p.link = m_spec.stereoLinkPercent / 100.0;
        p.midSide = m_spec.midSide && input.channels == 2;
        p.historyStep = std::max<Frames>(1, m_rate / 10);
        const bool anySolo =
            std::any_of(m_spec.bands.begin(), m_spec.bands.end(), [](const auto& b) { return b.solo; });
        for (const BandDynamics& b : m_spec.bands) {
            MultibandBandParams bp;
            bp.kind = curveKindOf(b.mode);
            bp.curve = math::bandCurveOf(bp.kind, b.thresholdDb, b.ratio, b.kneeDb, b.rangeDb, b.makeupDb);
            bp.aR = math::onePoleCoefficient(b.releaseMs * 1e-3, m_rate);
            bp.aA = math::onePoleCoefficient(b.attackMs * 1e-3, m_rate);
            bp.heard = !anySolo || b.solo;
            bp.active = bp.heard && !b.bypass;
            p.band.push_back(bp);
        }
        m_device = std::move(p);
        d.outputOnDevice = true; // the bands go from the crossover to the dynamics on the device
    }
    return d;
}

void MultibandStage::combineOnDevice(const AudioBuffer& filtered, Frames frames, AudioBuffer& out) {
    const int bands = m_device->bands;
    const Frames offset = m_framesDone - m_crossover.delay - m_upstream; // output frame of n = 0
    const Convolver* bandsOn = convolver().outputOnDevice() ? &convolver() : nullptr;
    backend().multibandDynamics(*m_device, MultibandCall{&filtered, offset, bandsOn}, m_detectors, out,
                                m_deviceStats);
    for (int c = 0; c < m_channels; ++c) {
        for (int k = 0; k < bands; ++k) {
            const MultibandBandParams& b = m_device->band[static_cast<std::size_t>(k)];
            if (!b.active) {
                continue;
            }
            const auto i = static_cast<std::size_t>(c * bands + k);
            BandState& st = m_state[i];
            st.maxReductionDb = std::min(st.maxReductionDb, m_deviceStats.minGainDb[i] - b.curve.makeupDb);
            st.sumGainDb += m_deviceStats.sumGainDb[i];
            st.frames += frames;
        }
    }
    for (int k = 0; k < bands; ++k) {
        const auto& steps = m_deviceStats.stepReductionDb[static_cast<std::size_t>(k)];
        for (std::size_t i = 0; i < steps.size(); ++i) {
            detail::recordReduction(
                m_history[static_cast<std::size_t>(k)],
                (m_deviceStats.firstStep + static_cast<Frames>(i)) * m_device->historyStep, m_rate, steps[i]);
        }
    }
    m_framesDone += frames;
}

void MultibandStage::combine(const AudioBuffer& filtered, const AudioBuffer& in, AudioBuffer& out) {
    // Each band is independent (its channels are coupled by the stereo link), so bands run in
    // parallel, each writing its gained signal to its own channels of m_bandOut; the sum over
    // bands is then taken in band order (the same result for any thread count).
    const Frames frames = in.frames();
    if (m_device) {
        combineOnDevice(filtered, frames, out);
        return;
    }
    const int bands = static_cast<int>(m_spec.bands.size());
    m_bandOut.reset(m_channels * bands, frames);
    m_bandOut.setFrames(frames);
    const bool anySolo =
        std::any_of(m_spec.bands.begin(), m_spec.bands.end(), [](const auto& b) { return b.solo; });
    const double link = m_spec.stereoLinkPercent / 100.0;
    const double aRms = math::onePoleCoefficient(kRmsSeconds, m_rate);
    const auto nf = static_cast<std::size_t>(frames);
    m_pool->parallelFor(static_cast<std::size_t>(bands), [&](std::size_t band, unsigned) {
        const int k = static_cast<int>(band);
        const BandDynamics& b = m_spec.bands[band];
        if (b.bypass || (anySolo && !b.solo)) {
            return;
        }
        const double aA = math::onePoleCoefficient(b.attackMs * 1e-3, m_rate);
        const double aR = math::onePoleCoefficient(b.releaseMs * 1e-3, m_rate);
        // Per channel: the level, then (in place) the smoothed level; the gains (the band's
        // scratch, kept between calls: fresh vectors of this size would be fresh pages each time).
        Scratch& scratch = m_scratch[band];
        scratch.level.resize(static_cast<std::size_t>(m_channels));
        for (auto& l : scratch.level) {
            l.resize(nf);
        }
        scratch.gainDb.resize(nf);
        scratch.gain.resize(nf);
        scratch.loudest.assign(m_channels > 2 ? nf : 0, 0.0);
        scratch.reduction.assign(nf, 0.0);
        auto& level = scratch.level;
        auto& gainDb = scratch.gainDb;
        auto& gain = scratch.gain;
        auto& loudest = scratch.loudest;
        auto& reduction = scratch.reduction;
        // Mid/side: the band encoded here, the gains applied to M and S, decoded at the end.
        const bool midSide = m_spec.midSide && m_channels == 2;
        if (midSide) {
            scratch.mid.resize(nf);
            scratch.side.resize(nf);
            const float* l = filtered.channel(k);
            const float* r = filtered.channel(bands + k);
            for (std::size_t n = 0; n < nf; ++n) {
                scratch.mid[n] = 0.5f * (l[n] + r[n]);
                scratch.side[n] = 0.5f * (l[n] - r[n]);
            }
        }
        auto bandOf = [&](int c) -> const float* {
            if (midSide) {
                return c == 0 ? scratch.mid.data() : scratch.side.data();
            }
            return filtered.channel(c * bands + k);
        };
        auto stateOf = [&](int c) -> BandState& { return m_state[static_cast<std::size_t>(c * bands + k)]; };
        auto detectorOf = [&](int c) -> BandDetectorState& {
            return m_detectors[static_cast<std::size_t>(c * bands + k)];
        };
        const bool rms = m_spec.detector == DetectorKind::Rms;
        // A 100 % link with two channels: one detector, one gain for both (see detectTogether).
        const bool linked = m_channels == 2 && link == 1.0;
        if (m_channels <= 2) {
            const float* x[2] = {bandOf(0), bandOf(m_channels - 1)};
            double* smoothed[2] = {level[0].data(), level[static_cast<std::size_t>(m_channels - 1)].data()};
            double ms[2], y1[2], yL[2];
            for (int c = 0; c < m_channels; ++c) {
                ms[c] = detectorOf(c).rms;
                y1[c] = detectorOf(c).y1;
                yL[c] = detectorOf(c).yL;
            }
            if (m_channels == 1) {
                detectTogether<1, false>(x, nf, rms, aRms, link, aR, aA, ms, y1, yL, smoothed);
            } else if (linked) {
                detectTogether<2, true>(x, nf, rms, aRms, link, aR, aA, ms, y1, yL, smoothed);
            } else {
                detectTogether<2, false>(x, nf, rms, aRms, link, aR, aA, ms, y1, yL, smoothed);
            }
            for (int c = 0; c < m_channels; ++c) {
                detectorOf(c).rms = ms[c];
                detectorOf(c).y1 = y1[c];
                detectorOf(c).yL = yL[c];
            }
        } else {
            // Many channels: a pass per step and channel.
            for (int c = 0; c < m_channels; ++c) {
                const float* x = bandOf(c);
                double* l = level[static_cast<std::size_t>(c)].data();
                if (rms) {
                    double ms = detectorOf(c).rms;
                    for (std::size_t n = 0; n < nf; ++n) {
                        const double v = x[n];
                        ms = math::apply(math::onePoleStep(v * v, aRms), ms);
                        l[n] = std::sqrt(ms);
                    }
                    detectorOf(c).rms = ms;
                } else {
                    for (std::size_t n = 0; n < nf; ++n) {
                        l[n] = std::abs(static_cast<double>(x[n]));
                    }
                }
            }
            // The stereo link: each channel's level blended with the loudest channel's.
            for (const auto& l : level) {
                for (std::size_t n = 0; n < nf; ++n) {
                    loudest[n] = std::max(loudest[n], l[n]);
                }
            }
            for (auto& l : level) {
                for (std::size_t n = 0; n < nf; ++n) {
                    l[n] = link * loudest[n] + (1.0 - link) * l[n];
                }
            }
            for (int c = 0; c < m_channels; ++c) {
                BandDetectorState& st = detectorOf(c);
                double* l = level[static_cast<std::size_t>(c)].data();
                // The decoupled detector: the one sequential step.
                double y1 = st.y1;
                double yL = st.yL;
                for (std::size_t n = 0; n < nf; ++n) {
                    y1 = math::apply(math::releaseStep(l[n], aR), y1);
                    yL = math::apply(math::onePoleStep(y1, aA), yL);
                    l[n] = yL;
                }
                st.y1 = y1;
                st.yL = yL;
            }
        }
        for (int c = 0; c < m_channels; ++c) {
            BandState& st = stateOf(c);
            if (c == 0 || !linked) {
                bandGains(b, level[static_cast<std::size_t>(c)].data(), frames, gainDb.data(), gain.data());
            }
            double minDb = st.maxReductionDb + b.makeupDb;
            st.sumGainDb += applyGains(bandOf(c), gain.data(), gainDb.data(), frames,
                                       m_bandOut.channel(c * bands + k), &minDb);
            st.maxReductionDb = std::min(st.maxReductionDb, minDb - b.makeupDb);
            st.frames += frames;
            for (std::size_t n = 0; n < nf && (c == 0 || !linked); ++n) {
                reduction[n] = std::max(reduction[n], b.makeupDb - gainDb[n]);
            }
        }
        if (midSide) {
            float* l = m_bandOut.channel(k);
            float* r = m_bandOut.channel(bands + k);
            for (std::size_t n = 0; n < nf; ++n) {
                const float m = l[n];
                const float sd = r[n];
                l[n] = m + sd;
                r[n] = m - sd;
            }
        }
        // 100 ms history of the reduction, on the output's time axis (latency removed), a step at a time.
        const Frames step = std::max<Frames>(1, m_rate / 10);
        const Frames offset = m_framesDone - m_crossover.delay - m_upstream; // output frame of n = 0
        for (Frames n = std::max<Frames>(0, -offset); n < frames;) {
            const Frames end = std::min(frames, ((n + offset) / step + 1) * step - offset);
            detail::recordReduction(m_history[band], n + offset, m_rate,
                                    *std::max_element(reduction.begin() + n, reduction.begin() + end));
            n = end;
        }
    });
    m_framesDone += frames;
    out.reset(m_channels, frames);
    out.setFrames(frames);
    out.clear();
    for (int k = 0; k < bands; ++k) {
        const BandDynamics& b = m_spec.bands[static_cast<std::size_t>(k)];
        if (anySolo && !b.solo) {
            continue;
        }
        for (int c = 0; c < m_channels; ++c) {
            const float* x = b.bypass ? filtered.channel(c * bands + k) : m_bandOut.channel(c * bands + k);
            float* y = out.channel(c);
            for (Frames n = 0; n < frames; ++n) {
                y[n] += x[n];
            }
        }
    }
}

nlohmann::json MultibandStage::report() const {
    nlohmann::json j;
    j["crossover_taps"] = m_crossover.taps;
    j["latency_frames"] = m_crossover.delay;
    j["latency_ms"] = m_rate > 0 ? 1e3 * static_cast<double>(m_crossover.delay) / m_rate : 0.0;
    j["splits_hz"] = m_spec.splitsHz;
    j["bands"] = nlohmann::json::array();
    const int bands = static_cast<int>(m_spec.bands.size());
    for (int k = 0; k < bands; ++k) {
        double maxReduction = 0.0;
        double sum = 0.0;
        Frames count = 0;
        for (int c = 0; c < m_channels; ++c) {
            const BandState& st = m_state[static_cast<std::size_t>(c * bands + k)];
            maxReduction = std::min(maxReduction, st.maxReductionDb);
            sum += st.sumGainDb;
            count += st.frames;
        }
        j["bands"].push_back({{"max_gain_reduction_db", -maxReduction},
                              {"mean_gain_db", count > 0 ? sum / static_cast<double>(count) : 0.0}});
    }
    // The history covers the input's duration (the flush's zero padding is not part of it).
    const auto steps = static_cast<std::size_t>(
        std::max<Frames>(0, inputFrames() - m_upstream + m_rate / 10 - 1) / std::max<Frames>(1, m_rate / 10));
    std::vector<std::vector<double>> history = m_history;
    for (auto& h : history) {
        h.resize(std::min(h.size(), steps));
    }
    j["gain_reduction_history"] = {{"step_s", detail::kGainHistoryStepSeconds}, {"bands_db", history}};
    j["mid_side"] = m_spec.midSide && m_channels == 2;
    j["warnings"] = m_crossover.warnings;
    if (m_spec.midSide && m_channels != 2) {
        j["warnings"].push_back("mid_side applies to stereo only: the " + std::to_string(m_channels) +
                                " channels were processed as they are");
    }
    return j;
}

} // namespace lathe
