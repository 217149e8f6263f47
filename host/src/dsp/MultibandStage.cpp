// SPDX-License-Identifier: GPL-3.0-or-later
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

/// Levels below this (−240 dBFS) are treated as this, so log10 stays finite in silence.
constexpr double kLevelFloor = 1e-12;
/// Time constant of the RMS detector's mean square.
constexpr double kRmsSeconds = 0.010;

double curveDb(const BandDynamics& b, double levelDb) {
    switch (b.mode) {
    case DynamicsMode::Compressor:
        return math::compressorCurveDb(levelDb, b.thresholdDb, b.ratio, b.kneeDb);
    case DynamicsMode::Expander:
        return math::expanderCurveDb(levelDb, b.thresholdDb, b.ratio, b.kneeDb);
    case DynamicsMode::Upward:
        return math::upwardCompressorCurveDb(levelDb, b.thresholdDb, b.ratio, b.kneeDb);
    }
    return levelDb;
}

} // namespace

MultibandStage::MultibandStage(MultibandSpec spec, Backend& backend, ConvolverOptions options)
    : ConvolutionStage(backend, options), m_spec(std::move(spec)),
      m_threads(options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency())) {}

MultibandStage::~MultibandStage() = default;

ConvolutionStage::Design MultibandStage::design(const StreamFormat& input) {
    const std::size_t bands = m_spec.splitsHz.size() + 1;
    LATHE_EXPECTS(m_spec.bands.size() == bands, "one dynamics setting per band");
    m_rate = input.sampleRate;
    m_channels = input.channels;
    m_crossover =
        design::designCrossover(m_spec.splitsHz, m_spec.slopeDbPerOctave, input.sampleRate, m_spec.taps);
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
    m_pool = std::make_unique<detail::ThreadPool>(m_threads);
    m_history.assign(bands, {});
    m_framesDone = 0;
    m_upstream = input.upstreamLatency;
    return d;
}

void MultibandStage::combine(const AudioBuffer& filtered, const AudioBuffer& in, AudioBuffer& out) {
    // Each band is independent (its channels are coupled by the stereo link), so bands run in
    // parallel, each writing its gained signal to its own channels of m_bandOut; the sum over
    // bands is then taken in band order (the same result for any thread count).
    const Frames frames = in.frames();
    const int bands = static_cast<int>(m_spec.bands.size());
    m_bandOut.reset(m_channels * bands, frames);
    m_bandOut.setFrames(frames);
    const bool anySolo =
        std::any_of(m_spec.bands.begin(), m_spec.bands.end(), [](const auto& b) { return b.solo; });
    const double link = m_spec.stereoLinkPercent / 100.0;
    const double aRms = math::onePoleCoefficient(kRmsSeconds, m_rate);
    m_pool->parallelFor(static_cast<std::size_t>(bands), [&](std::size_t band, unsigned) {
        const int k = static_cast<int>(band);
        const BandDynamics& b = m_spec.bands[band];
        if (b.bypass || (anySolo && !b.solo)) {
            return;
        }
        const double aA = math::onePoleCoefficient(b.attackMs * 1e-3, m_rate);
        const double aR = math::onePoleCoefficient(b.releaseMs * 1e-3, m_rate);
        const bool compressor = b.mode == DynamicsMode::Compressor;
        // The knee's edge on the identity side, as a linear level (compressor: below T − W/2 the
        // curve is the identity; expander and upward: above T + W/2).
        const double kneeEdge = std::pow(10.0, (b.thresholdDb + (compressor ? -0.5 : 0.5) * b.kneeDb) / 20.0);
        const double makeup = std::pow(10.0, b.makeupDb / 20.0);
        std::vector<double> level(static_cast<std::size_t>(m_channels));
        // The band's states, copied out: neighbouring bands' states share cache lines, and writing
        // them from two threads per sample would bounce those lines between cores.
        std::vector<BandState> state(static_cast<std::size_t>(m_channels));
        for (int c = 0; c < m_channels; ++c) {
            state[static_cast<std::size_t>(c)] = m_state[static_cast<std::size_t>(c * bands + k)];
        }
        for (Frames n = 0; n < frames; ++n) {
            double loudest = 0.0;
            for (int c = 0; c < m_channels; ++c) {
                const double x = filtered.channel(c * bands + k)[n];
                BandState& st = state[static_cast<std::size_t>(c)];
                double l = std::abs(x);
                if (m_spec.detector == DetectorKind::Rms) {
                    st.rms = math::apply(math::onePoleStep(x * x, aRms), st.rms);
                    l = std::sqrt(st.rms);
                }
                level[static_cast<std::size_t>(c)] = l;
                loudest = std::max(loudest, l);
            }
            for (int c = 0; c < m_channels; ++c) {
                BandState& st = state[static_cast<std::size_t>(c)];
                const double det = link * loudest + (1.0 - link) * level[static_cast<std::size_t>(c)];
                st.y1 = math::apply(math::releaseStep(det, aR), st.y1);
                st.yL = math::apply(math::onePoleStep(st.y1, aA), st.yL);
                // Outside the knee on the side where the curve is the identity, the gain is just
                // the makeup: no logarithm or power needed (most samples of a gentle setting).
                double gainDb = b.makeupDb;
                double gain = makeup;
                if (compressor ? st.yL > kneeEdge : st.yL < kneeEdge) {
                    const double levelDb = math::linearToDb(std::max(st.yL, kLevelFloor));
                    gainDb = std::clamp(curveDb(b, levelDb) - levelDb, -b.rangeDb, b.rangeDb) + b.makeupDb;
                    gain = math::dbToLinear(gainDb);
                }
                st.maxReductionDb = std::min(st.maxReductionDb, gainDb - b.makeupDb);
                // 100 ms history of the reduction, on the output's time axis (latency removed).
                detail::recordReduction(m_history[band], m_framesDone + n - m_crossover.delay - m_upstream,
                                        m_rate, b.makeupDb - gainDb);
                st.sumGainDb += gainDb;
                ++st.frames;
                m_bandOut.channel(c * bands + k)[n] =
                    static_cast<float>(gain * filtered.channel(c * bands + k)[n]);
            }
        }
        for (int c = 0; c < m_channels; ++c) {
            m_state[static_cast<std::size_t>(c * bands + k)] = state[static_cast<std::size_t>(c)];
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
    j["warnings"] = m_crossover.warnings;
    return j;
}

} // namespace lathe
