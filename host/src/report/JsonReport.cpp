// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/ChannelStats.h>
#include <lathe/JsonReport.h>

#include <cmath>

namespace lathe {
namespace {

nlohmann::json channelStats(const math::SampleStats& s, Speaker speaker, SampleRate rate) {
    nlohmann::json j;
    j["label"] = std::string(speakerLabel(speaker));
    j["peak_dbfs"] = dbOrNull(amplitudeToDb(s.peakAbs));
    j["peak_time_s"] =
        s.peakFrame >= 0 ? nlohmann::json(framesToSeconds(s.peakFrame, rate)) : nlohmann::json();
    const double n = static_cast<double>(s.finiteCount);
    j["rms_dbfs"] = n > 0 ? dbOrNull(10.0 * std::log10(s.sumSquares / n)) : nlohmann::json();
    j["dc_offset"] = n > 0 ? nlohmann::json(s.sum / n) : nlohmann::json();
    j["non_finite_samples"] = s.nonFiniteCount;
    j["first_non_finite_s"] =
        s.firstNonFinite >= 0 ? nlohmann::json(framesToSeconds(s.firstNonFinite, rate)) : nlohmann::json();
    return j;
}

nlohmann::json statsArray(const std::vector<math::SampleStats>& stats, const ChannelLayout& layout,
                          SampleRate rate) {
    nlohmann::json a = nlohmann::json::array();
    for (std::size_t c = 0; c < stats.size(); ++c) {
        const Speaker s = c < layout.speakers.size() ? layout.speakers[c] : Speaker::Unknown;
        a.push_back(channelStats(stats[c], s, rate));
    }
    return a;
}

const char* layoutSourceName(LayoutSource s) {
    switch (s) {
    case LayoutSource::File:
        return "file";
    case LayoutSource::Convention:
        return "convention";
    case LayoutSource::Unknown:
        return "unknown";
    }
    return "unknown";
}

} // namespace

nlohmann::json dbOrNull(double db) {
    return std::isfinite(db) ? nlohmann::json(db) : nlohmann::json();
}

nlohmann::json dbOrNull(const std::optional<double>& db) {
    return db ? dbOrNull(*db) : nlohmann::json();
}

nlohmann::json toJson(const ChannelLayout& layout) {
    nlohmann::json labels = nlohmann::json::array();
    for (Speaker s : layout.speakers) {
        labels.push_back(std::string(speakerLabel(s)));
    }
    return {{"name", layout.name()}, {"channels", labels}, {"source", layoutSourceName(layout.source)}};
}

nlohmann::json toJson(const FileInspection& x) {
    const AudioFileInfo& i = x.info;
    nlohmann::json j;
    j["file"] = i.path.string();
    j["container"] = std::string(containerName(i.container));
    j["format"] = i.formatDescription;
    j["encoding"] = std::string(encodingName(i.encoding));
    j["bits"] = integerBits(i.encoding) > 0 ? nlohmann::json(integerBits(i.encoding)) : nlohmann::json();
    j["sample_rate"] = i.sampleRate;
    j["channels"] = i.channels;
    j["layout"] = toJson(i.layout);
    j["frames"] = i.frames;
    j["duration_s"] = i.durationSeconds();
    j["truncated"] = i.truncated;
    j["declared_frames"] = i.declaredFrames >= 0 ? nlohmann::json(i.declaredFrames) : nlohmann::json();
    j["peak_dbfs"] = dbOrNull(amplitudeToDb(peakOf(x.stats)));
    j["non_finite_samples"] = nonFiniteOf(x.stats);
    j["channel_stats"] = statsArray(x.stats, i.layout, i.sampleRate);
    j["warnings"] = x.warnings;
    return j;
}

nlohmann::json toJson(const RenderReport& r) {
    nlohmann::json j;
    j["input"] = r.source;
    j["output"] = r.output.string();
    j["container"] = std::string(containerName(r.container));
    j["bits"] = std::string(sampleFormatName(r.format));
    j["input_sample_rate"] = r.inputRate;
    j["sample_rate"] = r.outputRate;
    j["channels"] = r.channels;
    j["layout"] = toJson(r.layout);
    j["input_frames"] = r.inputFrames;
    j["output_frames"] = r.outputFrames;
    j["duration_s"] = framesToSeconds(r.outputFrames, r.outputRate);
    j["latency_removed_frames"] = r.latencyFrames;
    j["stages"] = nlohmann::json::array();
    for (const StageRecord& st : r.stages) {
        nlohmann::json js = {{"name", st.name},
                             {"latency_frames", st.latencyFrames},
                             {"tail_frames", st.tailFrames},
                             {"seconds", st.seconds}};
        if (!st.details.empty()) {
            js["details"] = st.details;
        }
        j["stages"].push_back(js);
    }
    j["tail_policy"] = r.tailKept ? "keep" : "cut";
    j["dither"] = {{"applied", r.dithered}, {"reason", r.ditherReason}};
    j["clipped_samples"] = r.clippedSamples;
    j["sanitized_samples"] = r.sanitizedSamples;
    j["input_peak_dbfs"] = dbOrNull(amplitudeToDb(peakOf(r.inputStats)));
    j["output_peak_dbfs"] = dbOrNull(amplitudeToDb(peakOf(r.outputStats)));
    j["input_channel_stats"] = statsArray(r.inputStats, r.layout, r.inputRate);
    j["output_channel_stats"] = statsArray(r.outputStats, r.layout, r.outputRate);
    j["backend"] = r.backend;
    j["seconds"] = r.seconds;
    j["decode_seconds"] = r.decodeSeconds;
    j["encode_seconds"] = r.encodeSeconds;
    j["output_seconds"] = r.outputSeconds;
    j["tap_seconds"] = r.tapSeconds;
    j["setup_seconds"] = r.setupSeconds;
    j["drain_seconds"] = r.drainSeconds;
    j["read_wait_seconds"] = r.readWaitSeconds;
    j["sink_wait_seconds"] = r.sinkWaitSeconds;
    j["write_wait_seconds"] = r.writeWaitSeconds;
    const double audioSeconds = framesToSeconds(r.inputFrames, r.inputRate);
    j["realtime_factor"] = r.seconds > 0 ? nlohmann::json(audioSeconds / r.seconds) : nlohmann::json();
    j["warnings"] = r.warnings;
    return j;
}

namespace {
nlohmann::json noteOrNull(const std::string& s) {
    return s.empty() ? nlohmann::json() : nlohmann::json(s);
}
nlohmann::json series(const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double x : v) {
        a.push_back(dbOrNull(x));
    }
    return a;
}
} // namespace

nlohmann::json toJson(const LoudnessResult& r, bool withHistory) {
    nlohmann::json j;
    j["file"] = r.source;
    j["sample_rate"] = r.sampleRate;
    j["channels"] = r.channels;
    j["layout"] = toJson(r.layout);
    j["duration_s"] = r.durationSeconds;
    nlohmann::json l;
    l["integrated_lufs"] = dbOrNull(r.integratedLufs);
    l["integrated_note"] = noteOrNull(r.integratedNote);
    l["relative_gate_lufs"] = dbOrNull(r.relativeGateLufs);
    l["lra_lu"] = r.lraLu ? nlohmann::json(*r.lraLu) : nlohmann::json();
    l["lra_low_lufs"] = dbOrNull(r.lraLowLufs);
    l["lra_high_lufs"] = dbOrNull(r.lraHighLufs);
    l["lra_note"] = noteOrNull(r.lraNote);
    l["true_peak_dbtp"] = r.truePeakDbtp ? dbOrNull(r.truePeakDbtp->value) : nlohmann::json();
    l["true_peak_time_s"] = r.truePeakDbtp ? nlohmann::json(r.truePeakDbtp->atSeconds) : nlohmann::json();
    l["true_peak_channel"] =
        r.truePeakChannel >= 0 ? nlohmann::json(r.truePeakChannel + 1) : nlohmann::json();
    l["sample_peak_dbfs"] = r.samplePeakDbfs ? dbOrNull(r.samplePeakDbfs->value) : nlohmann::json();
    l["max_momentary_lufs"] = r.maxMomentaryLufs ? dbOrNull(r.maxMomentaryLufs->value) : nlohmann::json();
    l["max_momentary_time_s"] =
        r.maxMomentaryLufs ? nlohmann::json(r.maxMomentaryLufs->atSeconds) : nlohmann::json();
    l["max_short_term_lufs"] = r.maxShortTermLufs ? dbOrNull(r.maxShortTermLufs->value) : nlohmann::json();
    l["max_short_term_time_s"] =
        r.maxShortTermLufs ? nlohmann::json(r.maxShortTermLufs->atSeconds) : nlohmann::json();
    l["plr_db"] = dbOrNull(r.plrDb);
    l["psr_db"] = dbOrNull(r.psrDb);
    nlohmann::json ch = nlohmann::json::array();
    for (int c = 0; c < r.channels; ++c) {
        const auto k = static_cast<std::size_t>(c);
        ch.push_back(
            {{"label", std::string(speakerLabel(k < r.layout.speakers.size() ? r.layout.speakers[k]
                                                                             : Speaker::Unknown))},
             {"weight", k < r.channelWeights.size() ? r.channelWeights[k] : 0.0},
             {"true_peak_dbtp",
              k < r.channelTruePeakDbtp.size() ? dbOrNull(r.channelTruePeakDbtp[k]) : nlohmann::json()},
             {"sample_peak_dbfs",
              k < r.channelSamplePeakDbfs.size() ? dbOrNull(r.channelSamplePeakDbfs[k]) : nlohmann::json()}});
    }
    l["channels"] = ch;
    j["loudness"] = l;
    j["histogram"] = {{"low_lufs", r.histogram.lowLufs},
                      {"bin_lu", r.histogram.binLu},
                      {"short_term", r.histogram.shortTermCounts},
                      {"momentary", r.histogram.momentaryCounts}};
    if (withHistory) {
        j["history"] = {{"step_s", r.history.stepSeconds},
                        {"momentary_lufs", series(r.history.momentaryLufs)},
                        {"short_term_lufs", series(r.history.shortTermLufs)},
                        {"true_peak_dbtp", series(r.history.truePeakDbtp)}};
    }
    j["backend"] = r.backend;
    j["analysis_seconds"] = r.seconds;
    return j;
}

nlohmann::json toJson(const std::vector<PlatformPreview>& previews) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& p : previews) {
        a.push_back({{"id", p.id},
                     {"name", p.name},
                     {"gain_db", dbOrNull(p.gainDb)},
                     {"loudness_lufs", dbOrNull(p.loudnessLufs)},
                     {"true_peak_dbtp", dbOrNull(p.truePeakDbtp)},
                     {"true_peak_ok", p.truePeakOk ? nlohmann::json(*p.truePeakOk) : nlohmann::json()},
                     {"compliant", p.compliant ? nlohmann::json(*p.compliant) : nlohmann::json()},
                     {"note", p.note}});
    }
    return a;
}

nlohmann::json toJson(const AnalysisResult& a, bool withHistory) {
    nlohmann::json j = toJson(a.loudness, withHistory);
    j["container"] = std::string(containerName(a.file.container));
    j["encoding"] = std::string(encodingName(a.file.encoding));
    j["bits"] =
        integerBits(a.file.encoding) > 0 ? nlohmann::json(integerBits(a.file.encoding)) : nlohmann::json();
    if (a.spectral) {
        const auto hz = displayFrequencies(a.spectrum.sampleRate);
        nlohmann::json curves = nlohmann::json::object();
        for (std::size_t c = 0; c < a.spectrum.labels.size(); ++c) {
            curves[a.spectrum.labels[c]] = series(spectrumCurveDb(a.spectrum, c, a.smoothingFraction, hz));
        }
        j["spectrum"] = {{"fft_size", a.spectrum.fftSize},
                         {"resolution_hz", a.spectrum.binHz},
                         {"frames_averaged", a.spectrum.framesAveraged},
                         {"window", "hann, 50 % overlap"},
                         {"level", "dB re a full-scale sine per bin (noise reads its power per bin)"},
                         {"smoothing_octave_fraction", a.smoothingFraction},
                         {"frequencies_hz", hz},
                         {"curves_db", curves}};
        const StereoImage& s = a.stereo;
        nlohmann::json bands = nlohmann::json::array();
        for (std::size_t b = 0; b < s.bandCentreHz.size(); ++b) {
            bands.push_back({{"centre_hz", s.bandCentreHz[b]},
                             {"side_to_mid_db", dbOrNull(s.sideToMidDb[b])},
                             {"mono_loss_db", dbOrNull(s.monoLossDb[b])}});
        }
        j["stereo"] = {{"correlation", s.correlation ? nlohmann::json(*s.correlation) : nlohmann::json()},
                       {"mono_loss_lu", dbOrNull(s.monoLossLu)},
                       {"balance_db", dbOrNull(s.balanceDb)},
                       {"bands", bands}};
        if (withHistory) {
            j["stereo"]["step_s"] = s.stepSeconds;
            j["stereo"]["correlation_100ms"] = series(s.correlation100ms);
            j["stereo"]["correlation_3s"] = series(s.correlation3s);
            const Spectrogram& g = a.spectrogram;
            nlohmann::json mx = nlohmann::json::array();
            nlohmann::json mn = nlohmann::json::array();
            for (int r = 0; r < g.rows; ++r) {
                nlohmann::json rowMax = nlohmann::json::array();
                nlohmann::json rowMean = nlohmann::json::array();
                for (int c = 0; c < g.columns; ++c) {
                    const std::size_t at = static_cast<std::size_t>(r) * static_cast<std::size_t>(g.columns) +
                                           static_cast<std::size_t>(c);
                    rowMax.push_back(dbOrNull(g.maxDb[at]));
                    rowMean.push_back(dbOrNull(g.meanDb[at]));
                }
                mx.push_back(rowMax);
                mn.push_back(rowMean);
            }
            j["spectrogram"] = {{"rows", g.rows},
                                {"columns", g.columns},
                                {"seconds_per_column", g.secondsPerColumn},
                                {"row_low_hz", g.rowLowHz},
                                {"row_high_hz", g.rowHighHz},
                                {"max_db", mx},
                                {"mean_db", mn}};
        }
    }
    nlohmann::json findings = nlohmann::json::array();
    for (const Finding& f : a.findings) {
        nlohmann::json ranges = nlohmann::json::array();
        for (const TimeRange& r : f.ranges) {
            ranges.push_back({{"start_s", r.startSeconds}, {"end_s", r.endSeconds}});
        }
        findings.push_back({{"code", f.code},
                            {"severity", std::string(severityName(f.severity))},
                            {"title", f.title},
                            {"message", f.message},
                            {"ranges", ranges}});
    }
    j["readiness"] = findings;
    return j;
}

nlohmann::json toJson(const BackendStatus& s) {
    return {{"name", s.name},
            {"available", s.available},
            {"description", s.description},
            {"reason", s.available ? nlohmann::json() : nlohmann::json(s.reason)}};
}

} // namespace lathe
