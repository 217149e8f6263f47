// SPDX-License-Identifier: GPL-3.0-or-later
#include "GainHistory.h"

#include <lathe/Error.h>
#include <lathe/LimiterStage.h>
#include <lathe/math/Dynamics.h>
#include <lathe/math/Loudness.h>

#include <algorithm>
#include <cmath>

namespace lathe {
namespace {

/// Frames emitted per chunk (the unit of verification and re-computation).
constexpr Frames kChunk = 32768;
/// Input history kept before the next frame to emit (the ×4 window reaches 11 back, p[n−1] one more).
constexpr Frames kHistory = 32;
/// Verification margin: the ×16 window reaches 32 frames ahead of an interval (and 31 back).
constexpr Frames kVerify = 32;
/// Gain reduction below this has returned to 0 (an exponential release never does by itself).
constexpr double kReleasedDb = 1e-6;
/// Intervals whose ×4 estimate is within this of the ceiling are measured at ×16.
constexpr double kRefineWithinDb = 3.0;
/// Passes over one chunk before giving up raising the attenuation (never reached in the tests).
constexpr int kMaxPasses = 64;
/// Added to each measured excess so a region converges from below rather than oscillating at it.
constexpr double kExcessMarginDb = 0.002;

} // namespace

LimiterStage::LimiterStage(LimiterSpec spec) : m_spec(spec) {}

StreamFormat LimiterStage::prepare(const StreamFormat& input, Frames) {
    m_rate = input.sampleRate;
    m_channels = input.channels;
    m_lookahead = std::max<Frames>(1, static_cast<Frames>(std::llround(m_spec.lookaheadMs * 1e-3 * m_rate)));
    m_releaseCoeff = math::onePoleCoefficient(m_spec.releaseMs * 1e-3, m_rate);
    m_inputGain = static_cast<float>(math::dbToLinear(m_spec.inputGainDb));
    m_ceilingLinear = math::dbToLinear(m_spec.ceilingDbtp);
    m_search = &design::truePeakSearchInterpolator();
    // Verification uses a longer, flatter ×16 kernel than the meter (64 taps, β = 10, flat much
    // closer to Nyquist): full-band material near fs/2 is where short kernels disagree.
    static const design::Interpolator verify = design::designInterpolator(16, 64, 10.0);
    m_refine = &verify;
    // … and the meter's own ×16 kernel as well, so `lathe analyze` reads the ceiling as held too.
    m_meterRefine = &design::truePeakRefineInterpolator();
    m_x.assign(static_cast<std::size_t>(m_channels), {});
    m_yHistory.assign(static_cast<std::size_t>(m_channels), std::vector<float>(kVerify, 0.0f));
    m_rHistory.assign(static_cast<std::size_t>(m_lookahead - 1), 0.0);
    m_xStart = 0;
    m_inputFrames = 0;
    // The gain must already be down at frame 0 when the first samples are loud: the limiter runs
    // from L frames before the start (silence there), and those frames are not emitted.
    m_next = -m_lookahead;
    m_rPrev = 0;
    m_history.clear();
    m_upstream = input.upstreamLatency;
    return input;
}

void LimiterStage::append(const AudioBuffer& in) {
    for (int c = 0; c < m_channels; ++c) {
        auto& x = m_x[static_cast<std::size_t>(c)];
        const float* s = in.channel(c);
        for (Frames n = 0; n < in.frames(); ++n) {
            x.push_back(s[n] * m_inputGain);
        }
    }
    m_inputFrames += in.frames();
}

void LimiterStage::process(const AudioBuffer& in, AudioBuffer& out) {
    append(in);
    out.reset(m_channels, 0);
    while (emitChunk(out, false)) {
    }
}

void LimiterStage::flush(AudioBuffer& out) {
    out.reset(m_channels, 0);
    emitChunk(out, true);
}

bool LimiterStage::emitChunk(AudioBuffer& out, bool final) {
    const Frames L = m_lookahead;
    const Frames need = kVerify + L + 12; // input beyond the chunk that its frames depend on
    const Frames a = m_next;
    Frames chunk = final ? m_inputFrames - a : std::min(kChunk, m_inputFrames - a - need);
    if (final) {
        chunk = std::min(chunk, kChunk);
    }
    // Frames a later chunk's verification can still change: its boosts reach 2L back (through the
    // look-ahead maximum and the attack average) and the ×16 window 32 more. Those are computed
    // and verified here but emitted (frozen) only by the next chunk, with every boost known.
    const Frames overlap = 2 * L + kVerify + 64;
    if (chunk <= 0 || (!final && chunk <= overlap)) {
        return false;
    }
    const Frames emit = final ? chunk : chunk - overlap;
    const Frames e = chunk + kVerify;              // frames of y computed (the tail is provisional)
    const Frames origin = a - kHistory;            // absolute frame of working index 0
    const Frames span = kHistory + e + L + 12 + 1; // working length
    // Working copies of the input (zeros outside what exists).
    std::vector<std::vector<float>> xw(static_cast<std::size_t>(m_channels),
                                       std::vector<float>(static_cast<std::size_t>(span), 0.0f));
    for (int c = 0; c < m_channels; ++c) {
        const auto& x = m_x[static_cast<std::size_t>(c)];
        for (Frames j = 0; j < span; ++j) {
            const Frames abs = origin + j;
            if (abs >= m_xStart && abs < m_inputFrames) {
                xw[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)] =
                    x[static_cast<std::size_t>(abs - m_xStart)];
            }
        }
    }
    const auto& S = *m_search;
    auto at = [&](Frames absFrame) { return static_cast<std::size_t>(absFrame - origin); };
    // p[n] for n in [a−1, a+e+L−1): the peak of the interval [n, n+1] (×4).
    std::vector<double> p(static_cast<std::size_t>(e + L + 1), 0.0); // index n − (a − 1)
    for (Frames n = a - 1; n < a + e + L; ++n) {
        double peak = 0.0;
        for (int c = 0; c < m_channels; ++c) {
            const float* w = xw[static_cast<std::size_t>(c)].data() + at(n) - (S.taps / 2 - 1);
            peak = std::max(peak, static_cast<double>(std::fabs(w[S.taps / 2 - 1])));
            for (int ph = 1; ph < S.factor; ++ph) {
                peak = std::max(peak, static_cast<double>(
                                          std::fabs(math::interpolateAt(w, S.coeffs.data(), S.taps, ph))));
            }
        }
        p[static_cast<std::size_t>(n - (a - 1))] = peak;
    }
    std::vector<double> d(static_cast<std::size_t>(e + L), 0.0); // index n − a
    std::vector<double> r(static_cast<std::size_t>(e));
    std::vector<double> g(static_cast<std::size_t>(e));
    std::vector<std::vector<float>> yw(static_cast<std::size_t>(m_channels),
                                       std::vector<float>(static_cast<std::size_t>(kVerify + e), 0.0f));
    for (int c = 0; c < m_channels; ++c) {
        std::copy(m_yHistory[static_cast<std::size_t>(c)].begin(),
                  m_yHistory[static_cast<std::size_t>(c)].end(), yw[static_cast<std::size_t>(c)].begin());
    }
    // The ×4 search under-reads content above 0.8·Nyquist (its kernel rolls off there), so every
    // interval within 3 dB of the ceiling by the search is measured with the ×16 kernel.
    const double nearLinear = m_ceilingLinear * math::dbToLinear(-kRefineWithinDb);
    int passes = 0;
    Frames verifyFrom = a;
    for (;;) {
        ++passes;
        bool limiting = false;
        for (Frames n = a; n < a + e + L - 1; ++n) {
            const double q =
                std::max(p[static_cast<std::size_t>(n - a)], p[static_cast<std::size_t>(n - a + 1)]);
            double dn = q > m_ceilingLinear ? math::linearToDb(q / m_ceilingLinear) : 0.0;
            if (const auto it = m_boost.find(n); it != m_boost.end()) {
                dn += it->second;
            }
            d[static_cast<std::size_t>(n - a)] = dn;
            limiting = limiting || dn > 0.0;
        }
        if (!limiting && m_rPrev == 0.0 &&
            std::all_of(m_rHistory.begin(), m_rHistory.end(), [](double v) { return v == 0.0; })) {
            // Nothing to do: bit-exact pass-through.
            std::fill(r.begin(), r.end(), 0.0);
            std::fill(g.begin(), g.end(), 0.0);
        } else {
            // H = sliding maximum of d over [n, n+L−1] (monotonic deque), R, G.
            std::deque<Frames> window;
            Frames nextIn = a;
            double rPrev = m_rPrev;
            std::deque<double> rWindow = m_rHistory;
            double rSum = 0.0;
            for (double v : rWindow) {
                rSum += v;
            }
            for (Frames n = a; n < a + e; ++n) {
                while (nextIn <= n + L - 1) {
                    while (!window.empty() && d[static_cast<std::size_t>(window.back() - a)] <=
                                                  d[static_cast<std::size_t>(nextIn - a)]) {
                        window.pop_back();
                    }
                    window.push_back(nextIn++);
                }
                while (window.front() < n) {
                    window.pop_front();
                }
                const double h = d[static_cast<std::size_t>(window.front() - a)];
                double rn = math::apply(math::MaxAffine{h, m_releaseCoeff, 0.0}, rPrev);
                if (rn < kReleasedDb) {
                    rn = 0.0; // fully released: back to a bit-exact pass-through
                }
                rPrev = rn;
                r[static_cast<std::size_t>(n - a)] = rn;
                rWindow.push_back(rn);
                rSum += rn;
                if (static_cast<Frames>(rWindow.size()) > L) {
                    rSum -= rWindow.front();
                    rWindow.pop_front();
                }
                g[static_cast<std::size_t>(n - a)] = std::max(0.0, rSum / static_cast<double>(L));
            }
        }
        for (int c = 0; c < m_channels; ++c) {
            const auto& x = xw[static_cast<std::size_t>(c)];
            auto& y = yw[static_cast<std::size_t>(c)];
            for (Frames n = a; n < a + e; ++n) {
                const double gn = g[static_cast<std::size_t>(n - a)];
                const float gain = gn > 0.0 ? static_cast<float>(math::dbToLinear(-gn)) : 1.0f;
                y[static_cast<std::size_t>(kVerify + n - a)] = x[at(n)] * gain;
            }
        }
        // Verify every interval [n, n+1] for n in [verifyFrom, a+chunk): on later passes only from
        // where the gain can have changed (a raised attenuation at m moves G from m − 2L on).
        bool ok = true;
        Frames firstBoost = a + chunk;
        for (Frames n = verifyFrom; n < a + chunk; ++n) {
            double tp = 0.0;
            for (int c = 0; c < m_channels; ++c) {
                const float* y = yw[static_cast<std::size_t>(c)].data() + (kVerify + n - a);
                double est = std::fabs(y[0]);
                for (int ph = 1; ph < S.factor; ++ph) {
                    est = std::max(est, static_cast<double>(std::fabs(math::interpolateAt(
                                            y - (S.taps / 2 - 1), S.coeffs.data(), S.taps, ph))));
                }
                if (est > nearLinear) {
                    for (const design::Interpolator* k : {m_refine, m_meterRefine}) {
                        for (int ph = 1; ph < k->factor; ++ph) {
                            est = std::max(est, static_cast<double>(std::fabs(math::interpolateAt(
                                                    y - (k->taps / 2 - 1), k->coeffs.data(), k->taps, ph))));
                        }
                    }
                }
                tp = std::max(tp, est);
            }
            if (tp > m_ceilingLinear) {
                // Raise the attenuation asked for at both samples of the interval by the excess;
                // repeated, this always converges (the boost grows until G follows it).
                const double excess = math::linearToDb(tp / m_ceilingLinear) + kExcessMarginDb;
                m_boost[n] += excess;
                m_boost[n + 1] += excess;
                firstBoost = std::min(firstBoost, n);
                ok = false;
                ++m_regionsRerun;
            }
        }
        if (ok) {
            break;
        }
        if (passes >= kMaxPasses) {
            ++m_unconvergedChunks; // reported as a warning: never a silent miss
            break;
        }
        verifyFrom = std::max(a, firstBoost - 2 * L - kVerify);
    }
    m_maxPasses = std::max(m_maxPasses, passes);
    // Emit [a, a+emit) (without the lead-in before frame 0) and carry the state.
    const Frames skip = std::clamp<Frames>(-a, 0, emit);
    const Frames start = out.frames();
    out.setFrames(start + emit - skip);
    for (int c = 0; c < m_channels; ++c) {
        const auto& y = yw[static_cast<std::size_t>(c)];
        std::copy(y.begin() + kVerify + skip, y.begin() + kVerify + emit, out.channel(c) + start);
        auto& h = m_yHistory[static_cast<std::size_t>(c)];
        std::copy(y.begin() + emit, y.begin() + emit + kVerify, h.begin());
    }
    for (Frames n = a; n < a + emit; ++n) {
        const double gn = g[static_cast<std::size_t>(n - a)];
        if (gn > 0.0 && n >= 0) {
            m_maxReductionDb = std::max(m_maxReductionDb, gn);
            m_sumReductionDb += gn;
            ++m_limitedFrames;
        }
        detail::recordReduction(m_history, n - m_upstream, m_rate, gn);
        m_rHistory.push_back(r[static_cast<std::size_t>(n - a)]);
        if (static_cast<Frames>(m_rHistory.size()) > L - 1) {
            m_rHistory.pop_front();
        }
    }
    m_rPrev = r[static_cast<std::size_t>(emit - 1)];
    m_boost.erase(m_boost.begin(), m_boost.lower_bound(a + emit));
    m_next = a + emit;
    // Drop input no longer needed (keep kHistory frames before the next frame to emit).
    const Frames keepFrom = std::max(m_xStart, m_next - kHistory);
    if (keepFrom > m_xStart) {
        for (auto& x : m_x) {
            x.erase(x.begin(), x.begin() + (keepFrom - m_xStart));
        }
        m_xStart = keepFrom;
    }
    return true;
}

nlohmann::json LimiterStage::report() const {
    nlohmann::json j;
    j["ceiling_dbtp"] = m_spec.ceilingDbtp;
    j["lookahead_frames"] = m_lookahead;
    j["max_gain_reduction_db"] = m_maxReductionDb;
    j["mean_gain_reduction_db"] =
        m_limitedFrames > 0 ? m_sumReductionDb / static_cast<double>(m_limitedFrames) : 0.0;
    j["limited_s"] = m_rate > 0 ? static_cast<double>(m_limitedFrames) / m_rate : 0.0;
    j["verification_reruns"] = m_regionsRerun;
    j["max_passes"] = m_maxPasses;
    j["gain_reduction_history"] = {{"step_s", detail::kGainHistoryStepSeconds}, {"db", m_history}};
    j["warnings"] = nlohmann::json::array();
    if (m_unconvergedChunks > 0) {
        j["warnings"].push_back("the true-peak ceiling could not be verified in " +
                                std::to_string(m_unconvergedChunks) + " region(s) after " +
                                std::to_string(kMaxPasses) + " passes; the output may exceed it there");
    }
    return j;
}

} // namespace lathe
