// Lathe: translation metrics — every speaker model's render, measured and compared with the monitors.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "../core/ParallelJobs.h"

#include <lathe/Batch.h>
#include <lathe/ChainSource.h>
#include <lathe/ConvolutionStage.h>
#include <lathe/Error.h>
#include <lathe/GainStage.h>
#include <lathe/JsonReport.h>
#include <lathe/Loudness.h>
#include <lathe/RenderJob.h>
#include <lathe/Spectrum.h>
#include <lathe/Text.h>
#include <lathe/Translation.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

namespace lathe {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

/// What one model's render measured.
struct Measured {
    LoudnessResult loudness;
    LongTermSpectrum spectrum;
    SpeakerStageStats stats;
    /// The model's FIR, where it follows the response less closely than kSpeakerFitDb: its largest
    /// deviation (dB), where, and its length.
    struct LooseFit {
        double errorDb;
        double atHz;
        int taps;
    };
    std::optional<LooseFit> looseFit;
};

double powerDbOrNan(double ratio) {
    return ratio > 0.0 && std::isfinite(ratio) ? 10.0 * std::log10(ratio) : std::nan("");
}

Json seriesJson(const std::vector<double>& v) {
    Json a = Json::array();
    for (double x : v) {
        a.push_back(dbOrNull(x));
    }
    return a;
}

Measured measureModel(const std::filesystem::path& input, const SpeakerModel& model, double programmeLufs,
                      const TranslationOptions& options, Backend& backend, const JobControl& control) {
    AudioReader reader(input, options.reader);
    Measured m;
    auto stages = buildSpeakerStages(model, programmeLufs, backend, 1, m.stats);
    std::vector<Stage*> chain;
    for (auto& s : stages) {
        chain.push_back(s.get());
    }
    ChainSource source(reader, chain, backend.hostMemory());
    SpectrumSettings settings;
    settings.columns = 1; // only the long-term spectrum is used
    settings.rows = 1;
    SpectralAnalyzer spectral(source.sampleRate(), source.channelLayout(), source.totalFrames(), settings,
                              &backend); // its frames on the device when it has Capability::Spectrum
    LoudnessOptions lo;
    lo.threads = 1;      // the models run in parallel instead
    lo.truePeak = false; // a third of the cost; a device's peaks are the driver's business (its stats)
    lo.reader = options.reader;
    lo.blockTap = [&](const AudioBuffer& block, Frames, std::span<const math::SampleStats>) {
        spectral.add(block);
    };
    m.loudness = measureLoudness(source, lo, backend, control);
    spectral.finish();
    m.spectrum = spectral.spectrum();
    for (const auto& stage : stages) {
        // The response's FIR, designed for this rate when the render prepared it.
        if (const auto* eq = dynamic_cast<const EqStage*>(stage.get()); eq != nullptr) {
            const design::EqDesign& d = eq->result();
            if (d.maxErrorDb > kSpeakerFitDb) {
                m.looseFit = Measured::LooseFit{d.maxErrorDb, d.maxErrorHz, d.taps};
            }
        }
    }
    return m;
}

/// The lowest display frequency from which the difference curve stays within 10 dB of its value at
/// 1 kHz (an IR model's bass limit, which has no written response).
std::optional<double> measuredBassLimitHz(const std::vector<double>& hz, const std::vector<double>& diff) {
    std::size_t k1 = 0;
    while (k1 + 1 < hz.size() && hz[k1] < 1000.0) {
        ++k1;
    }
    if (hz.empty() || !std::isfinite(diff[k1])) {
        return std::nullopt;
    }
    std::size_t k = k1;
    while (k > 0 && std::isfinite(diff[k - 1]) && diff[k - 1] >= diff[k1] - 10.0) {
        --k;
    }
    return hz[k];
}

SpeakerMetrics compare(const SpeakerModel& model, const Measured& m, const Measured& ref, int channels,
                       const std::vector<double>& curveHz) {
    SpeakerMetrics r;
    r.id = model.id;
    r.name = model.name;
    r.reference = model.reference;
    r.mono = model.mono;
    r.loudnessLufs = m.loudness.integratedLufs;
    const double refLufs = ref.loudness.integratedLufs.value_or(0.0);
    if (r.loudnessLufs) {
        r.loudnessDifferenceLu = *r.loudnessLufs - refLufs;
        r.levelMatchDb = -r.loudnessDifferenceLu;
        r.matchedLoudnessLufs = *r.loudnessLufs + r.levelMatchDb;
    }
    const double g = std::pow(10.0, r.levelMatchDb / 10.0); // power gain of the match
    const LongTermSpectrum& s = m.spectrum;
    const LongTermSpectrum& sr = ref.spectrum;
    const double nyquist = 0.5 * s.sampleRate;
    const double refTotal = bandPower(sr, channels, 0.0, sr.sampleRate);
    // Octave bands and the balance deviation over 63 Hz–8 kHz.
    double sq = 0.0;
    int n = 0;
    for (double c : octaveBandCentres()) {
        const double lo = c / std::sqrt(2.0);
        const double hi = c * std::sqrt(2.0);
        double d = std::nan("");
        if (hi <= nyquist) {
            d = powerDbOrNan(g * bandPower(s, channels, lo, hi) / bandPower(sr, channels, lo, hi));
        }
        r.bandDifferenceDb.push_back(d);
        if (c >= 60.0 && c <= 8100.0) {
            // A band the model removes entirely counts as a 60 dB deviation (not as undefined).
            const double dd = std::isfinite(d) ? d : (hi <= nyquist ? -60.0 : std::nan(""));
            if (std::isfinite(dd)) {
                sq += dd * dd;
                ++n;
            }
        }
    }
    r.balanceDeviationDb = n > 0 ? std::sqrt(sq / n) : 0.0;
    r.balanceScore = std::clamp(100.0 - kBalanceScorePerDb * r.balanceDeviationDb, 0.0, 100.0);
    // The 1/6-octave difference curve.
    const std::vector<double> a =
        sampleBins(smoothFractionalOctave(summedChannelPower(s, channels), 6), s.binHz, curveHz);
    const std::vector<double> b =
        sampleBins(smoothFractionalOctave(summedChannelPower(sr, channels), 6), sr.binHz, curveHz);
    for (std::size_t k = 0; k < curveHz.size(); ++k) {
        r.curveDifferenceDb.push_back(powerDbOrNan(g * a[k] / b[k]));
    }
    // Bass.
    r.bassLimitHz =
        model.impulseResponse ? measuredBassLimitHz(curveHz, r.curveDifferenceDb) : speakerBassLimitHz(model);
    if (r.bassLimitHz && refTotal > 0.0) {
        const double refBass = bandPower(sr, channels, 0.0, *r.bassLimitHz);
        const double bass = g * bandPower(s, channels, 0.0, *r.bassLimitHz);
        r.bassSharePercent = 100.0 * refBass / refTotal;
        r.lostBassPercent = 100.0 * std::max(0.0, refBass - bass) / refTotal;
        if (refBass > 0.0) {
            const double db = powerDbOrNan(bass / refBass);
            r.lostBassDb = std::isfinite(db) ? db : -120.0;
        }
    }
    // Presence: the 1–4 kHz band of the level-matched render against the reference's.
    {
        const double db = powerDbOrNan(g * bandPower(s, channels, kPresenceLowHz, kPresenceHighHz) /
                                       bandPower(sr, channels, kPresenceLowHz, kPresenceHighHz));
        if (std::isfinite(db)) {
            r.presenceBalanceDb = db;
        }
    }
    if (m.loudness.samplePeakDbfs && std::isfinite(m.loudness.samplePeakDbfs->value)) {
        r.matchedSamplePeakDbfs = m.loudness.samplePeakDbfs->value + r.levelMatchDb;
    }
    r.driverMaxReductionDb = m.stats.maxReductionDb;
    r.driverActivePercent = m.stats.frames > 0 ? 100.0 * static_cast<double>(m.stats.framesReduced) /
                                                     static_cast<double>(m.stats.frames)
                                               : 0.0;
    if (model.mono && channels > 1 && m.stats.foldInEnergy > 0.0) {
        const double ratio = m.stats.foldOutEnergy / m.stats.foldInEnergy;
        r.monoLossDb = ratio > 0.0 ? -10.0 * std::log10(ratio) : 120.0;
        r.monoProblem = *r.monoLossDb > kMonoLossFlagDb;
    }
    r.verdict = translationVerdict(r);
    return r;
}

/// A name inside a sentence: "Flat-screen TV" → "flat-screen TV" (an acronym stays).
std::string inSentence(std::string name) {
    if (name.size() > 1 && std::isupper(static_cast<unsigned char>(name[0])) != 0 &&
        std::isupper(static_cast<unsigned char>(name[1])) == 0) {
        name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
    }
    return name;
}

std::string db1(double x) {
    return formatFixed(x, 1);
}

Json metricsJson(const SpeakerMetrics& m) {
    Json j{{"id", m.id},
           {"name", m.name},
           {"reference", m.reference},
           {"mono", m.mono},
           {"loudness_lufs", dbOrNull(m.loudnessLufs)},
           {"loudness_difference_lu", m.loudnessDifferenceLu},
           {"level_match_db", m.levelMatchDb},
           {"matched_loudness_lufs", dbOrNull(m.matchedLoudnessLufs)},
           {"band_difference_db", seriesJson(m.bandDifferenceDb)},
           {"bass_limit_hz", dbOrNull(m.bassLimitHz)},
           {"bass_share_percent", m.bassSharePercent},
           {"lost_bass_percent", m.lostBassPercent},
           {"lost_bass_db", dbOrNull(m.lostBassDb)},
           {"presence_balance_db", dbOrNull(m.presenceBalanceDb)},
           {"balance_deviation_db", m.balanceDeviationDb},
           {"balance_score", m.balanceScore},
           {"matched_sample_peak_dbfs", dbOrNull(m.matchedSamplePeakDbfs)},
           {"driver_max_reduction_db", m.driverMaxReductionDb},
           {"driver_active_percent", m.driverActivePercent},
           {"mono_loss_db", dbOrNull(m.monoLossDb)},
           {"mono_problem", m.monoProblem},
           {"verdict", m.verdict},
           {"curve_difference_db", seriesJson(m.curveDifferenceDb)}};
    j["render"] = m.render ? Json(m.render->string()) : Json(nullptr);
    return j;
}

} // namespace

std::string translationVerdict(const SpeakerMetrics& m) {
    if (m.reference) {
        return "The reference: every other model is level-matched to these monitors and compared with them.";
    }
    std::vector<std::string> parts;
    const std::string limit =
        m.bassLimitHz ? formatFixed(*m.bassLimitHz, 0) + " Hz" : std::string("its bass limit");
    if (m.lostBassPercent >= 10.0) {
        const bool most = m.lostBassPercent >= 0.7 * m.bassSharePercent;
        parts.push_back(
            "Bass below " + limit + (most ? " mostly disappears" : " is much weaker") + " on the " +
            inSentence(m.name) + ": " + formatFixed(m.lostBassPercent, 0) +
            " % of the mix's energy is lost there; the low end must be heard through its harmonics above " +
            limit + ".");
    } else if (m.lostBassPercent >= 3.0) {
        parts.push_back("Some of the bass below " + limit + " is lost (" + formatFixed(m.lostBassPercent, 0) +
                        " % of the mix's energy).");
    }
    double lowGain = -1e9;
    for (std::size_t k = 0; k < std::min<std::size_t>(3, m.bandDifferenceDb.size()); ++k) {
        if (std::isfinite(m.bandDifferenceDb[k])) {
            lowGain = std::max(lowGain, m.bandDifferenceDb[k]);
        }
    }
    if (lowGain >= 3.0) {
        parts.push_back("The low end comes up by up to " + db1(lowGain) +
                        " dB: check that the kick and bass do not boom.");
    }
    if (m.presenceBalanceDb && *m.presenceBalanceDb >= kPresenceVerdictDb) {
        parts.push_back("The 1–4 kHz vocal/presence band is " + db1(*m.presenceBalanceDb) +
                        " dB more prominent: listen for harshness.");
    } else if (m.presenceBalanceDb && *m.presenceBalanceDb <= -kPresenceVerdictDb) {
        parts.push_back("The 1–4 kHz vocal/presence band recedes by " + db1(-*m.presenceBalanceDb) +
                        " dB: vocals may get lost.");
    }
    if (m.monoProblem) {
        parts.push_back("Summed to mono the mix loses " + db1(*m.monoLossDb) +
                        " dB: parts of it are out of phase and cancel.");
    }
    if (m.driverActivePercent >= 10.0) {
        parts.push_back("The driver protection works " + formatFixed(m.driverActivePercent, 0) +
                        " % of the time (up to " + db1(m.driverMaxReductionDb) +
                        " dB): dense peaks will pump.");
    }
    if (parts.empty()) {
        return "Translates well: the balance stays within " + db1(m.balanceDeviationDb) +
               " dB RMS of the monitors' (score " + formatFixed(m.balanceScore, 0) + ").";
    }
    std::string s;
    for (const auto& p : parts) {
        s += (s.empty() ? "" : " ") + p;
    }
    return s;
}

TranslationResult measureTranslation(const std::filesystem::path& input, const TranslationOptions& options,
                                     Backend& backend, const JobControl& control) {
    const auto t0 = Clock::now();
    if (options.models.empty() || !options.models.front().reference) {
        throw UsageError("translation needs the reference monitors as its first model");
    }
    TranslationResult result;
    result.source = input.string();
    result.backend = std::string(backend.name());
    // The programme's loudness first: it sets the driver thresholds and must exist to match levels.
    LoudnessOptions lo;
    lo.truePeak = false;
    lo.reader = options.reader;
    const LoudnessResult programme = measureLoudness(input, lo, backend, JobControl{{}, control.cancel});
    if (!programme.integratedLufs) {
        throw AudioContentError(
            input, "no loudness to compare speakers at: " +
                       (programme.integratedNote.empty() ? std::string("silent") : programme.integratedNote));
    }
    {
        AudioReader probe(input, options.reader); // the file's own warnings (truncation, …) first
        result.warnings = probe.info().warnings;
    }
    result.programmeLufs = *programme.integratedLufs;
    result.sampleRate = programme.sampleRate;
    result.channels = programme.channels;
    result.durationSeconds = programme.durationSeconds;
    result.bandCentresHz = octaveBandCentres();
    result.curveHz = displayFrequencies(programme.sampleRate);

    // Every model in parallel, each single-threaded (one reader, one convolution, one meter).
    const std::size_t count = options.models.size();
    std::vector<Measured> measured(count);
    std::vector<std::size_t> order(count);
    for (std::size_t k = 0; k < count; ++k) {
        order[k] = k;
    }
    detail::runParallelJobs(
        order, options.jobs > 0 ? options.jobs : batch::availableCpus(), control, "speakers",
        programme.frames * static_cast<Frames>(count), [&](std::size_t k, const JobControl& jc) {
            measured[k] = measureModel(input, options.models[k], result.programmeLufs, options, backend, jc);
        });
    const Measured& ref = measured.front();
    if (!ref.loudness.integratedLufs) {
        throw AudioContentError(input, "the reference monitors' render has no loudness to match levels to");
    }
    for (std::size_t k = 0; k < count; ++k) {
        result.models.push_back(
            compare(options.models[k], measured[k], ref, result.channels, result.curveHz));
        if (!measured[k].loudness.integratedLufs) {
            result.warnings.push_back(options.models[k].name +
                                      ": the render has no loudness (the model removes "
                                      "everything this file has); not level-matched");
        }
        if (const auto& fit = measured[k].looseFit) {
            result.warnings.push_back(
                options.models[k].name + ": its " + std::to_string(fit->taps) +
                "-tap FIR follows the response within " + formatFixed(fit->errorDb, 2) + " dB (at " +
                formatFixed(fit->atHz, 0) + " Hz), not the " + formatFixed(kSpeakerFitDb, 1) +
                " dB models are held to: the response has detail finer than the longest FIR resolves at " +
                formatFixed(result.sampleRate / 1000.0, 1) + " kHz");
        }
    }
    if (options.renderDir) {
        const std::string stem = input.stem().string();
        for (std::size_t k = 0; k < count; ++k) {
            AudioReader reader(input, options.reader);
            SpeakerStageStats stats;
            auto stages = buildSpeakerStages(options.models[k], result.programmeLufs, backend, 0, stats);
            stages.push_back(std::make_unique<GainStage>(result.models[k].levelMatchDb, "level-match"));
            RenderOptions ro;
            ro.tail = TailPolicy::Cut;
            const auto out = *options.renderDir / (stem + "." + options.models[k].id + ".wav");
            render(reader, std::move(stages), out, ro, backend, JobControl{{}, control.cancel});
            result.models[k].render = out;
        }
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return result;
}

Json toJson(const TranslationResult& r) {
    Json models = Json::array();
    for (const auto& m : r.models) {
        models.push_back(metricsJson(m));
    }
    return Json{{"source", r.source},
                {"sample_rate_hz", r.sampleRate},
                {"channels", r.channels},
                {"duration_s", r.durationSeconds},
                {"programme_lufs", r.programmeLufs},
                {"reference", r.models.empty() ? Json(nullptr) : Json(r.models.front().id)},
                {"band_centres_hz", r.bandCentresHz},
                {"curve_hz", r.curveHz},
                {"models", models},
                {"warnings", r.warnings},
                {"backend", r.backend},
                {"seconds", r.seconds}};
}

Json translationComparisonJson(const TranslationResult& a, const TranslationResult& b) {
    Json models = Json::array();
    const std::vector<std::string> keys = {
        "loudness_difference_lu", "lost_bass_percent",       "presence_balance_db",
        "balance_deviation_db",   "balance_score",           "matched_sample_peak_dbfs",
        "driver_active_percent",  "driver_max_reduction_db", "mono_loss_db"};
    for (std::size_t k = 0; k < std::min(a.models.size(), b.models.size()); ++k) {
        const Json ja = metricsJson(a.models[k]);
        const Json jb = metricsJson(b.models[k]);
        Json delta = Json::object();
        for (const auto& key : keys) {
            delta[key] = ja[key].is_number() && jb[key].is_number()
                             ? Json(jb[key].get<double>() - ja[key].get<double>())
                             : Json(nullptr);
        }
        models.push_back({{"id", a.models[k].id},
                          {"name", a.models[k].name},
                          {"a", ja},
                          {"b", jb},
                          {"delta_b_minus_a", delta}});
    }
    return Json{{"a", toJson(a)}, {"b", toJson(b)}, {"models", models}};
}

} // namespace lathe
