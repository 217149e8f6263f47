// SPDX-License-Identifier: GPL-3.0-or-later
// Mix readiness: what in a mix needs fixing before mastering. Every threshold is a named constant
// with the reason it is where it is; every finding is triggered by a generated defect in
// tests/unit/ReadinessTest and stays quiet on the clean demo mix.
#include <lathe/Analysis.h>
#include <lathe/Error.h>
#include <lathe/Text.h>

#include <cmath>

namespace lathe {
namespace {

/// A run of samples within one 16-bit step of full scale, three or more long, almost never
/// happens in unclipped audio (a waveform crosses its peak in one sample); it means a ceiling.
constexpr std::int64_t kClipRunsProblem = 10; ///< more runs than this: audible, a problem

/// Above 0 dBTP the reconstructed waveform exceeds full scale: DACs and lossy encoders clip.
constexpr double kInterSampleOverDbtp = 0.0;

/// The limit: a DC offset above −40 dBFS (1 %) costs headroom and thumps at edits.
constexpr double kDcOffsetDbfs = -40.0;

/// Less than 1 dB of true-peak headroom: the mix has been limited or normalised already, which
/// leaves mastering nothing to work with (and −1 dBTP is where most platforms want masters).
constexpr double kHeadroomDbtp = -1.0;

/// Peak-to-loudness ratio: unmastered mixes typically sit at 12–18 dB, streaming masters at
/// 8–11; below 8 dB a mix has been compressed like a master already, below 6 it is crushed.
constexpr double kPlrWarningDb = 8.0;
constexpr double kPlrProblemDb = 6.0;

/// Energy below 30 Hz within 12 dB of the whole mix's (more than 6 %): mostly inaudible on
/// real speakers, it eats headroom and makes limiters pump.
constexpr double kSubBassHz = 30.0;
constexpr double kSubBassShareDb = -12.0;

/// Phase: negative overall correlation cancels in mono; short-term dips below −0.2 for a second
/// or more are audible as a hollow or vanishing sound on mono playback.
constexpr double kCorrelationProblem = 0.0;
constexpr double kCorrelationWarning = -0.2;
constexpr double kPhaseMinSeconds = 1.0;

/// Folding to mono loses 3 dB for uncorrelated channels; more means partly opposite phase.
constexpr double kMonoLossWarningLu = -3.0;
constexpr double kMonoLossProblemLu = -6.0;

/// L/R balance: 1.5 dB is clearly audible as an off-centre image.
constexpr double kImbalanceDb = 1.5;

/// Silence at the ends (below −60 dBFS true peak): half a second at the start delays playback;
/// trailing silence over 2 s is dead air in a playlist.
constexpr double kSilenceDbtp = -60.0;
constexpr double kLeadingSilenceSeconds = 0.5;
constexpr double kTrailingSilenceSeconds = 2.0;

/// Below CD rate the top of the audio band is missing.
constexpr SampleRate kLowSampleRate = 44100;

/// A high-rate file with nothing above 24.5 kHz (just above a 48 kHz file's Nyquist) at all
/// (−100 dB re the total) was converted up from 48 kHz or lower: any resampler leaves its
/// stop band ≥ 100 dB down, while real high-rate recordings carry noise and overtones there.
constexpr double kEmptyTopBandHz = 24500.0;
constexpr double kEmptyTopBandDb = -100.0;

std::vector<TimeRange> stepRanges(const std::vector<double>& perStep, double stepSeconds, auto&& hit,
                                  double minSeconds = 0.0) {
    std::vector<TimeRange> out;
    std::ptrdiff_t start = -1;
    for (std::size_t i = 0; i <= perStep.size(); ++i) {
        const bool on = i < perStep.size() && hit(perStep[i]);
        if (on && start < 0) {
            start = static_cast<std::ptrdiff_t>(i);
        } else if (!on && start >= 0) {
            const TimeRange r{static_cast<double>(start) * stepSeconds, static_cast<double>(i) * stepSeconds};
            if (r.endSeconds - r.startSeconds >= minSeconds && out.size() < 100) {
                out.push_back(r);
            }
            start = -1;
        }
    }
    return out;
}

std::string timesText(const std::vector<TimeRange>& r) {
    std::string s;
    for (std::size_t i = 0; i < r.size() && i < 3; ++i) {
        s += (i ? ", " : "") + formatDuration(r[i].startSeconds);
    }
    if (r.size() > 3) {
        s += " and " + std::to_string(r.size() - 3) + " more";
    }
    return s;
}

} // namespace

std::string_view severityName(Severity s) {
    switch (s) {
    case Severity::Info:
        return "info";
    case Severity::Warning:
        return "warning";
    case Severity::Problem:
        return "problem";
    }
    return "?";
}

std::vector<Finding> assessReadiness(const AnalysisResult& a) {
    std::vector<Finding> f;
    const LoudnessResult& l = a.loudness;
    const double step = l.history.stepSeconds;

    if (a.scan.clipRuns > 0) {
        f.push_back(
            {"clipping", a.scan.clipRuns > kClipRunsProblem ? Severity::Problem : Severity::Warning,
             "Clipped samples",
             std::to_string(a.scan.clipRuns) + " places where the waveform sits flat at full scale (" +
                 std::to_string(a.scan.clippedSamples) + " samples), first at " +
                 timesText(a.scan.clipRanges) +
                 ". Mastering cannot restore a clipped peak: export the mix again with the master fader or "
                 "the last plug-in lowered.",
             a.scan.clipRanges});
    }
    if (l.truePeakDbtp && l.truePeakDbtp->value > kInterSampleOverDbtp) {
        auto ranges =
            stepRanges(l.history.truePeakDbtp, step, [](double v) { return v > kInterSampleOverDbtp; });
        f.push_back({"inter-sample-overs", Severity::Warning, "Inter-sample peaks above 0 dBTP",
                     "The waveform between the samples reaches " + formatFixed(l.truePeakDbtp->value, 2) +
                         " dBTP (at " + timesText(ranges) +
                         "): converters and MP3/AAC encoders will clip there. Leave headroom in the mix.",
                     ranges});
    }
    for (std::size_t c = 0; c < l.sampleStats.size(); ++c) {
        const auto& s = l.sampleStats[c];
        if (s.finiteCount == 0) {
            continue;
        }
        const double dc = s.sum / static_cast<double>(s.finiteCount);
        if (std::fabs(dc) > std::pow(10.0, kDcOffsetDbfs / 20.0)) {
            const Speaker sp = c < l.layout.speakers.size() ? l.layout.speakers[c] : Speaker::Unknown;
            f.push_back(
                {"dc-offset",
                 Severity::Warning,
                 "DC offset",
                 "Channel " + std::to_string(c + 1) + " (" + std::string(speakerLabel(sp)) +
                     ") is shifted off zero by " + formatFixed(20.0 * std::log10(std::fabs(dc)), 1) +
                     " dBFS of DC. It wastes headroom and clicks at edits; a high-pass or DC filter on "
                     "that track fixes it.",
                 {}});
        }
    }
    if (l.truePeakDbtp && l.truePeakDbtp->value > kHeadroomDbtp &&
        l.truePeakDbtp->value <= kInterSampleOverDbtp) {
        f.push_back({"no-headroom",
                     Severity::Warning,
                     "Less than 1 dB of headroom",
                     "The mix peaks at " + formatFixed(l.truePeakDbtp->value, 2) +
                         " dBTP: it looks limited or normalised already. Send the mix without a limiter on "
                         "the master "
                         "bus, peaking around −6 dBFS.",
                     {}});
    }
    if (l.plrDb && *l.plrDb < kPlrWarningDb) {
        f.push_back(
            {"over-compressed",
             *l.plrDb < kPlrProblemDb ? Severity::Problem : Severity::Warning,
             "Very little dynamic range",
             "Peaks are only " + formatFixed(*l.plrDb, 1) +
                 " dB above the average loudness (unmastered mixes usually have 12–18 dB). It has been "
                 "compressed or limited like a finished master; mastering it again will make it flatter.",
             {}});
    }
    // Spectral balance is judged only where there is a programme to hear (a −800 dBFS DC offset of
    // denormals is not "strong sub-bass").
    if (a.spectral && !a.spectrum.power.empty() && l.integratedLufs) {
        double total = 0.0;
        double sub = 0.0;
        double top = 0.0;
        for (std::size_t ch = 0; ch < static_cast<std::size_t>(l.channels) && ch < a.spectrum.power.size();
             ++ch) {
            for (std::size_t k = 1; k < a.spectrum.power[ch].size(); ++k) {
                const double hz = static_cast<double>(k) * a.spectrum.binHz;
                const double v = a.spectrum.power[ch][k];
                total += v;
                sub += hz < kSubBassHz ? v : 0.0;
                top += hz > kEmptyTopBandHz ? v : 0.0;
            }
        }
        if (total > 0.0 && 10.0 * std::log10(std::max(sub, 1e-300) / total) > kSubBassShareDb) {
            f.push_back(
                {"sub-bass",
                 Severity::Warning,
                 "Strong energy below 30 Hz",
                 formatFixed(100.0 * sub / total, 0) +
                     " % of the mix's energy lies below 30 Hz, where most speakers cannot play it. It uses "
                     "up headroom and makes compressors pump; a gentle high-pass on the bass and kick helps.",
                 {}});
        }
        if (a.file.sampleRate >= 2 * kEmptyTopBandHz && total > 0.0 &&
            10.0 * std::log10(std::max(top, 1e-300) / total) < kEmptyTopBandDb) {
            f.push_back({"upsampled",
                         Severity::Info,
                         "Nothing above 24 kHz",
                         "The file runs at " + std::to_string(a.file.sampleRate) +
                             " Hz but holds nothing above 24 kHz: it was probably made at 44.1 or 48 kHz and "
                             "converted up. Send the session's own rate.",
                         {}});
        }
    }
    if (a.spectral && l.channels == 2) {
        const StereoImage& s = a.stereo;
        if (s.correlation && *s.correlation < kCorrelationProblem) {
            f.push_back({"phase",
                         Severity::Problem,
                         "Channels out of phase",
                         "Left and right are negatively correlated overall (" +
                             formatFixed(*s.correlation, 2) +
                             "): much of the mix cancels in mono (phones, club systems, radio). Check for a "
                             "polarity-inverted channel or an extreme stereo widener.",
                         {}});
        } else {
            auto ranges = stepRanges(
                s.correlation3s, s.stepSeconds,
                [](double v) { return !std::isnan(v) && v < kCorrelationWarning; }, kPhaseMinSeconds);
            if (!ranges.empty()) {
                f.push_back({"phase", Severity::Warning, "Passages out of phase",
                             "The channels are out of phase for a second or more at " + timesText(ranges) +
                                 ": those parts will sound hollow or disappear in mono.",
                             ranges});
            }
        }
        if (s.monoLossLu && *s.monoLossLu < kMonoLossWarningLu) {
            f.push_back({"mono-loss",
                         *s.monoLossLu < kMonoLossProblemLu ? Severity::Problem : Severity::Warning,
                         "Loses level in mono",
                         "Folded to mono the mix is " + formatFixed(-*s.monoLossLu, 1) +
                             " LU quieter (uncorrelated channels lose 3): parts of it are in opposite phase.",
                         {}});
        }
        if (s.balanceDb && std::fabs(*s.balanceDb) > kImbalanceDb) {
            f.push_back({"imbalance",
                         Severity::Warning,
                         "Left/right imbalance",
                         std::string(*s.balanceDb > 0 ? "The left" : "The right") + " channel is " +
                             formatFixed(std::fabs(*s.balanceDb), 1) +
                             " dB louder than the other: the mix leans to one side.",
                         {}});
        }
    }
    const auto& tp = l.history.truePeakDbtp;
    if (!tp.empty() && l.truePeakDbtp) {
        std::size_t lead = 0;
        while (lead < tp.size() && !(tp[lead] > kSilenceDbtp)) {
            ++lead;
        }
        std::size_t trail = 0;
        while (trail < tp.size() && !(tp[tp.size() - 1 - trail] > kSilenceDbtp)) {
            ++trail;
        }
        const double leadS = static_cast<double>(lead) * step;
        const double trailS = std::min(l.durationSeconds, static_cast<double>(trail) * step);
        if (leadS >= kLeadingSilenceSeconds) {
            f.push_back(
                {"leading-silence",
                 Severity::Info,
                 "Silence at the start",
                 formatFixed(leadS, 1) + " s of silence before the music starts; trim it unless it is meant.",
                 {{0.0, leadS}}});
        }
        if (trailS >= kTrailingSilenceSeconds) {
            f.push_back({"trailing-silence",
                         Severity::Info,
                         "Silence at the end",
                         formatFixed(trailS, 1) + " s of silence after the music ends.",
                         {{l.durationSeconds - trailS, l.durationSeconds}}});
        }
    }
    if (a.file.sampleRate < kLowSampleRate) {
        f.push_back({"low-sample-rate",
                     Severity::Warning,
                     "Low sample rate",
                     "The file runs at " + std::to_string(a.file.sampleRate) + " Hz: everything above " +
                         std::to_string(a.file.sampleRate / 2000) +
                         " kHz is gone. Export at the session's rate (44.1 kHz or more).",
                     {}});
    }
    const int bits = integerBits(a.file.encoding);
    if ((bits > 16 || bits == 0) && a.scan.on16BitGrid && l.truePeakDbtp) {
        f.push_back(
            {"padded-bit-depth",
             Severity::Info,
             "16-bit audio in a larger file",
             std::string("The file is ") + (bits == 0 ? "floating point" : std::to_string(bits) + "-bit") +
                 " but every sample sits on the 16-bit grid: it went through 16 bits upstream (a bounce or "
                 "an export setting). Export the mix at 24 bits or float.",
             {}});
    } else if (bits == 16) {
        f.push_back({"16-bit-source",
                     Severity::Info,
                     "16-bit mix",
                     "A 24-bit or floating-point export of the mix keeps more detail for mastering.",
                     {}});
    }
    return f;
}

} // namespace lathe
