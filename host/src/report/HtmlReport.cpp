// SPDX-License-Identifier: GPL-3.0-or-later
#include "Svg.h"

#include <lathe/Error.h>
#include <lathe/HtmlReport.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/Text.h>
#include <lathe/design/LoudnessDesign.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>

namespace lathe {
namespace {

using report::SvgPlot;
using report::xmlEscape;

constexpr int kPlotWidth = 900;
constexpr int kPlotHeight = 300;

const char* kStyle = R"CSS(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 960px; color: #1d1d22; background: #fafafa; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }
.sub { color: #666; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 10px; text-align: left; border-bottom: 1px solid #e4e4e4; }
th { background: #eee; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } td.text { font-size: 12px; }
h3 { font-size: 14px; margin: 14px 0 0 0; color: #444; }
.finding { margin: 8px 0; padding: 6px 10px; border-left: 4px solid #999; background: #fff; font-size: 14px; }
.finding.problem { border-color: #c0392b; } .finding.warning { border-color: #e67e22; } .finding.info { border-color: #2980b9; }
.badge { font-size: 11px; text-transform: uppercase; font-weight: bold; margin-right: 6px; }
.problem .badge { color: #c0392b; } .warning .badge { color: #d35400; } .info .badge { color: #2471a3; }
.when { color: #666; font-size: 12px; }
svg.plot { background: #fff; display: block; margin: 8px 0; }
svg .frame { fill: none; stroke: #999; } svg .grid { stroke: #eee; } svg .tick, svg .legend, svg .note { font-size: 11px; fill: #444; }
svg .axis { font-size: 12px; fill: #333; }
svg polyline { fill: none; stroke-width: 1.4; } svg line.key { stroke-width: 2; }
.m { stroke: #8fb7e0; stroke-width: 1; } .s { stroke: #1f5fa8; stroke-width: 1.8; } .i { stroke: #c0392b; stroke-dasharray: 6 3; stroke-width: 1.5; }
.target { stroke: #27ae60; stroke-dasharray: 2 3; stroke-width: 1.5; } .tp { stroke: #aaa; stroke-width: 1; }
.c0 { stroke: #1f5fa8; } .c1 { stroke: #c0392b; } .c2 { stroke: #27ae60; } .c3 { stroke: #8e44ad; } .c4 { stroke: #d35400; } .c5 { stroke: #7f8c8d; }
.after { stroke: #c0392b; stroke-dasharray: 5 2; } .before { stroke: #1f5fa8; } .diff { stroke: #333; }
.zero { stroke: #888; stroke-width: 1; } .corr3 { stroke: #1f5fa8; stroke-width: 1.8; } .corr01 { stroke: #b8cbe0; stroke-width: 0.8; }
rect.bar { fill: #1f5fa8; }
.multiples { display: flex; flex-wrap: wrap; gap: 0 12px; } .multiples svg.plot { margin: 4px 0; }
td.verdict { font-size: 12px; max-width: 340px; }
)CSS";

std::string fmt(const std::optional<double>& v, int decimals, const char* unit) {
    return v && std::isfinite(*v) ? formatFixed(*v, decimals) + " " + unit : std::string("—");
}

std::string timeLabel(double seconds, double span) {
    if (span >= 600.0) {
        return formatFixed(seconds / 60.0, 0) + " min";
    }
    return formatFixed(seconds, 0) + " s";
}

std::vector<double> niceTicks(double lo, double hi, int count) {
    const double raw = (hi - lo) / count;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        if (raw <= m * mag) {
            step = m * mag;
            break;
        }
    }
    std::vector<double> t;
    for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
        t.push_back(v);
    }
    return t;
}

std::vector<std::string> labels(const std::vector<double>& v, int decimals) {
    std::vector<std::string> out;
    for (double x : v) {
        out.push_back(formatFixed(x, decimals));
    }
    return out;
}

void timeAxis(SvgPlot& plot, double duration) {
    std::vector<double> t = niceTicks(0.0, duration, 8);
    std::vector<std::string> l;
    for (double x : t) {
        l.push_back(timeLabel(x, duration));
    }
    plot.xTicks(t, l);
}

void frequencyAxis(SvgPlot& plot, double highHz) {
    std::vector<double> at;
    std::vector<std::string> l;
    for (double f : {20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0}) {
        if (f <= highHz) {
            at.push_back(f);
            l.push_back(f >= 1000.0 ? formatFixed(f / 1000.0, 0) + "k" : formatFixed(f, 0));
        }
    }
    plot.xTicks(at, l);
}

std::string section(const std::string& id, const std::string& title, const std::string& body) {
    return "<section id=\"" + id + "\"><h2>" + xmlEscape(title) + "</h2>" + body + "</section>\n";
}

std::string summaryTable(const AnalysisResult& a, const AnalysisResult* b) {
    auto row = [&](const std::string& id, const std::string& label, const std::string& va,
                   const std::string& vb) {
        const std::string cls = id == "format" ? "text" : "num"; // the file line wraps, numbers do not
        std::string r = "<tr><th>" + xmlEscape(label) + "</th><td class=\"" + cls + "\" id=\"" + id + "\">" +
                        xmlEscape(va) + "</td>";
        if (b != nullptr) {
            r += "<td class=\"" + cls + "\" id=\"" + id + "-after\">" + xmlEscape(vb) + "</td>";
        }
        return r + "</tr>";
    };
    auto timed = [](const std::optional<TimedLevel>& t, int d, const char* u) {
        return t ? formatFixed(t->value, d) + " " + u + " at " + formatDuration(t->atSeconds)
                 : std::string("—");
    };
    const LoudnessResult& x = a.loudness;
    const LoudnessResult* y = b ? &b->loudness : nullptr;
    std::string t = "<table><tr><th></th><th>" + xmlEscape(a.file.path.filename().string()) + "</th>" +
                    (b ? "<th>" + xmlEscape(b->file.path.filename().string()) + "</th>" : std::string()) +
                    "</tr>";
    auto fileLine = [](const AnalysisResult& r) {
        return r.file.formatDescription + ", " + std::string(encodingName(r.file.encoding)) + ", " +
               std::to_string(r.file.sampleRate) + " Hz, " + std::to_string(r.file.channels) + " ch (" +
               r.file.layout.name() + "), " + formatDuration(r.file.durationSeconds());
    };
    t += row("format", "file", fileLine(a), b ? fileLine(*b) : "");
    t += row("integrated", "integrated loudness", fmt(x.integratedLufs, 1, "LUFS"),
             y ? fmt(y->integratedLufs, 1, "LUFS") : "");
    t += row("lra", "loudness range", fmt(x.lraLu, 1, "LU"), y ? fmt(y->lraLu, 1, "LU") : "");
    t += row("true-peak", "true peak", timed(x.truePeakDbtp, 2, "dBTP"),
             y ? timed(y->truePeakDbtp, 2, "dBTP") : "");
    t += row("sample-peak", "sample peak", timed(x.samplePeakDbfs, 2, "dBFS"),
             y ? timed(y->samplePeakDbfs, 2, "dBFS") : "");
    t += row("max-momentary", "max momentary", timed(x.maxMomentaryLufs, 1, "LUFS"),
             y ? timed(y->maxMomentaryLufs, 1, "LUFS") : "");
    t += row("max-short-term", "max short-term", timed(x.maxShortTermLufs, 1, "LUFS"),
             y ? timed(y->maxShortTermLufs, 1, "LUFS") : "");
    t += row("plr", "PLR (true peak − integrated)", fmt(x.plrDb, 1, "dB"), y ? fmt(y->plrDb, 1, "dB") : "");
    t += row("psr", "PSR (true peak − max short-term)", fmt(x.psrDb, 1, "dB"),
             y ? fmt(y->psrDb, 1, "dB") : "");
    if (a.spectral && a.file.channels == 2) {
        t += row("correlation", "stereo correlation",
                 a.stereo.correlation ? formatFixed(*a.stereo.correlation, 2) : "—",
                 b && b->stereo.correlation ? formatFixed(*b->stereo.correlation, 2) : "");
    }
    return t + "</table>";
}

std::string findingsHtml(const AnalysisResult& a) {
    if (a.findings.empty()) {
        return "<p>Nothing to fix: no clipping, no DC, enough headroom and dynamics, the stereo image folds "
               "to mono.</p>";
    }
    std::string s;
    for (const Finding& f : a.findings) {
        s += "<div class=\"finding " + std::string(severityName(f.severity)) + "\" data-code=\"" +
             xmlEscape(f.code) + "\"><span class=\"badge\">" + std::string(severityName(f.severity)) +
             "</span><strong>" + xmlEscape(f.title) + "</strong> — " + xmlEscape(f.message);
        if (!f.ranges.empty()) {
            s += "<div class=\"when\">at ";
            for (std::size_t i = 0; i < f.ranges.size() && i < 20; ++i) {
                s += (i ? ", " : "") + formatDuration(f.ranges[i].startSeconds) + "–" +
                     formatDuration(f.ranges[i].endSeconds);
            }
            if (f.ranges.size() > 20) {
                s += " and " + std::to_string(f.ranges.size() - 20) + " more";
            }
            s += "</div>";
        }
        s += "</div>";
    }
    return s;
}

/// A plot over time (0 … duration s) of a level from y0 up to 0, with its axes and ticks.
SvgPlot timePlot(const std::string& title, const std::string& unit, double duration, double y0) {
    SvgPlot p(kPlotWidth, kPlotHeight, 0.0, duration, y0, 0.0);
    p.setTitle(title);
    p.setXLabel("time");
    p.setYLabel(unit);
    timeAxis(p, duration);
    const auto yt = niceTicks(y0, 0.0, 6);
    p.yTicks(yt, labels(yt, 0));
    return p;
}

std::string loudnessPlot(const AnalysisResult& a, double targetLufs, const std::string& targetLabel) {
    const LoudnessResult& l = a.loudness;
    const double duration = std::max(l.durationSeconds, 0.1);
    double lowest = 0.0;
    for (double v : l.history.shortTermLufs) {
        if (std::isfinite(v)) {
            lowest = std::min(lowest, v);
        }
    }
    const double y0 = std::max(-70.0, std::floor((lowest - 10.0) / 10.0) * 10.0);
    SvgPlot p = timePlot("Loudness history", "LUFS", duration, y0);
    std::vector<double> t;
    for (std::size_t i = 0; i < l.history.momentaryLufs.size(); ++i) {
        t.push_back(static_cast<double>(i + 1) * l.history.stepSeconds);
    }
    p.line(t, l.history.momentaryLufs, "momentary", "m");
    p.line(t, l.history.shortTermLufs, "short-term", "s");
    if (l.integratedLufs) {
        p.hline(*l.integratedLufs, "integrated", "i",
                "integrated " + formatFixed(*l.integratedLufs, 1) + " LUFS", true);
    }
    p.hline(targetLufs, "target", "target", targetLabel);
    p.legend("momentary (400 ms)", "m");
    p.legend("short-term (3 s)", "s");
    p.legend("integrated", "i");
    return p.str();
}

std::string gainReductionPlot(const std::vector<GainReductionSeries>& series) {
    double duration = 0.1;
    double deepest = 1.0;
    for (const auto& s : series) {
        duration = std::max(duration, static_cast<double>(s.reductionDb.size()) * s.stepSeconds);
        for (double v : s.reductionDb) {
            deepest = std::max(deepest, v);
        }
    }
    const double y0 = -std::ceil(deepest + 0.5);
    SvgPlot p = timePlot("Gain reduction", "dB", duration, y0);
    for (std::size_t k = 0; k < series.size(); ++k) {
        const auto& s = series[k];
        std::vector<double> t;
        std::vector<double> y;
        for (std::size_t i = 0; i < s.reductionDb.size(); ++i) {
            t.push_back(static_cast<double>(i) * s.stepSeconds);
            y.push_back(-s.reductionDb[i]);
        }
        std::string cls = "c";
        cls += std::to_string(k % 6);
        std::string id = "gr-";
        id += std::to_string(k);
        p.line(t, y, id, cls);
        p.legend(s.label, cls);
    }
    return p.str();
}

std::string histogramPlot(const AnalysisResult& a) {
    const LoudnessHistogram& h = a.loudness.histogram;
    std::int64_t total = 0;
    for (auto c : h.shortTermCounts) {
        total += c;
    }
    std::vector<double> x;
    std::vector<double> y;
    double top = 1.0;
    for (std::size_t i = 0; i < h.shortTermCounts.size(); ++i) {
        x.push_back(h.lowLufs + static_cast<double>(i) * h.binLu);
        const double pct =
            total > 0 ? 100.0 * static_cast<double>(h.shortTermCounts[i]) / static_cast<double>(total) : 0.0;
        y.push_back(pct);
        top = std::max(top, pct);
    }
    SvgPlot p(kPlotWidth, 220, -60.0, 0.0, 0.0, std::ceil(top / 5.0) * 5.0);
    p.setTitle("Short-term loudness distribution");
    p.setXLabel("short-term loudness (LUFS), 1 LU bins");
    p.setYLabel("% of time");
    const auto xt = niceTicks(-60.0, 0.0, 6);
    p.xTicks(xt, labels(xt, 0));
    const auto yt = niceTicks(0.0, std::ceil(top / 5.0) * 5.0, 4);
    p.yTicks(yt, labels(yt, 0));
    p.bars(x, h.binLu, y, "short-term-histogram", "bar");
    return p.str();
}

std::string spectrumPlot(const AnalysisResult& a, const AnalysisResult* b) {
    const auto hz = displayFrequencies(a.spectrum.sampleRate);
    std::vector<std::pair<std::vector<double>, std::pair<std::string, std::string>>> curves;
    SpectrumComparison cmp;
    if (b == nullptr) {
        for (std::size_t c = 0; c < a.spectrum.labels.size(); ++c) {
            curves.push_back({spectrumCurveDb(a.spectrum, c, a.smoothingFraction, hz),
                              {a.spectrum.labels[c], "c" + std::to_string(c % 6)}});
        }
    } else {
        // Before/after: the mid (or only) curve of each file, at the first file's bin width.
        cmp = compareSpectra(a.spectrum, b->spectrum, a.smoothingFraction, hz);
        curves.push_back({cmp.beforeDb, {"before", "before"}});
        curves.push_back({cmp.afterDb, {"after", "after"}});
    }
    double top = -200.0;
    for (const auto& c : curves) {
        for (double v : c.first) {
            if (std::isfinite(v)) {
                top = std::max(top, v);
            }
        }
    }
    top = std::ceil(top / 10.0) * 10.0 + 5.0;
    SvgPlot p(kPlotWidth, kPlotHeight, hz.front(), hz.back(), top - 95.0, top, true);
    p.setTitle("Long-term spectrum");
    p.setXLabel("frequency (Hz), 1/" + std::to_string(a.smoothingFraction) + "-octave smoothing");
    p.setYLabel("dB re full-scale sine");
    frequencyAxis(p, hz.back());
    const auto yt = niceTicks(top - 95.0, top, 6);
    p.yTicks(yt, labels(yt, 0));
    for (const auto& c : curves) {
        p.line(hz, c.first, c.second.first, c.second.second);
        p.legend(c.second.first, c.second.second);
    }
    std::string s = p.str();
    if (b != nullptr && cmp.binWidthsDiffer) {
        s += "<p class=\"sub\">The files have different sample rates: the second file's spectrum is shown at "
             "the first "
             "file's bin width (" +
             formatFixed(a.spectrum.binHz, 2) + " Hz instead of " + formatFixed(b->spectrum.binHz, 2) +
             " Hz), as for noise-like content.</p>";
    }
    if (b != nullptr) {
        std::vector<double> diff(hz.size());
        for (std::size_t i = 0; i < hz.size(); ++i) {
            diff[i] = curves[1].first[i] - curves[0].first[i];
        }
        double span = 3.0;
        for (double d : diff) {
            if (std::isfinite(d)) {
                span = std::max(span, std::ceil(std::fabs(d)));
            }
        }
        SvgPlot q(kPlotWidth, 200, hz.front(), hz.back(), -span, span, true);
        q.setTitle("Difference (after − before)");
        q.setXLabel("frequency (Hz)");
        q.setYLabel("dB");
        frequencyAxis(q, hz.back());
        const auto dt = niceTicks(-span, span, 4);
        q.yTicks(dt, labels(dt, 0));
        q.hline(0.0, "zero", "zero", "");
        q.line(hz, diff, "difference", "diff");
        s += q.str();
    }
    return s;
}

std::string spectrogramPlot(const AnalysisResult& a) {
    const Spectrogram& g = a.spectrogram;
    if (g.columns == 0 || g.rows == 0) {
        return "<p>No spectrogram (no audio).</p>";
    }
    float top = -std::numeric_limits<float>::infinity();
    for (float v : g.maxDb) {
        if (std::isfinite(v)) {
            top = std::max(top, v);
        }
    }
    if (!std::isfinite(top)) {
        top = 0.0f;
    }
    const double high = std::ceil(top / 10.0) * 10.0;
    const double range = 100.0;
    std::vector<std::uint8_t> index(static_cast<std::size_t>(g.rows) * static_cast<std::size_t>(g.columns));
    for (int r = 0; r < g.rows; ++r) {
        const int imageRow = g.rows - 1 - r; // highest frequency at the top
        for (int c = 0; c < g.columns; ++c) {
            const float v = g.maxDb[static_cast<std::size_t>(r) * static_cast<std::size_t>(g.columns) +
                                    static_cast<std::size_t>(c)];
            const double t = std::isfinite(v) ? (v - (high - range)) / range : 0.0;
            index[static_cast<std::size_t>(imageRow) * static_cast<std::size_t>(g.columns) +
                  static_cast<std::size_t>(c)] =
                static_cast<std::uint8_t>(std::lround(std::clamp(t, 0.0, 1.0) * 255.0));
        }
    }
    const auto palette = report::heatPalette();
    const double duration = g.secondsPerColumn * g.columns;
    SvgPlot p(kPlotWidth, 320, 0.0, duration, std::log10(g.rowLowHz.front()), std::log10(g.rowHighHz.back()));
    p.setTitle("Spectrogram (maximum per cell)");
    p.setXLabel("time");
    p.setYLabel("frequency (Hz)");
    p.image(report::pngDataUri(g.columns, g.rows, index, palette));
    timeAxis(p, duration);
    std::vector<double> at;
    std::vector<std::string> l;
    for (double f : {50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0}) {
        if (f >= g.rowLowHz.front() && f <= g.rowHighHz.back()) {
            at.push_back(std::log10(f));
            l.push_back(f >= 1000.0 ? formatFixed(f / 1000.0, 0) + "k" : formatFixed(f, 0));
        }
    }
    p.yTicks(at, l);
    // dB scale: a gradient bar with its end labels.
    std::string scale =
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"360\" height=\"40\" "
        "viewBox=\"0 0 360 40\" role=\"img\"><title>dB colour scale</title><defs>"
        "<linearGradient id=\"heat\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">";
    for (int i = 0; i <= 8; ++i) {
        const std::uint32_t c = palette[static_cast<std::size_t>(i * 255 / 8)];
        char colour[8];
        std::snprintf(colour, sizeof colour, "#%06x", c);
        scale += "<stop offset=\"" + formatFixed(i / 8.0, 3) + "\" stop-color=\"" + colour + "\"/>";
    }
    scale +=
        "</linearGradient></defs><rect x=\"40\" y=\"4\" width=\"280\" height=\"14\" fill=\"url(#heat)\"/>"
        "<text class=\"tick\" x=\"40\" y=\"32\" text-anchor=\"middle\">" +
        formatFixed(high - range, 0) +
        " dB</text><text class=\"tick\" x=\"320\" y=\"32\" text-anchor=\"middle\">" + formatFixed(high, 0) +
        " dB</text></svg>";
    return p.str() + scale + "<p class=\"sub\">" + std::to_string(g.columns) + " columns of " +
           formatFixed(g.secondsPerColumn, 2) + " s × " + std::to_string(g.rows) + " log-spaced rows from " +
           formatFixed(g.rowLowHz.front(), 0) + " Hz to " + formatFixed(g.rowHighHz.back() / 1000.0, 1) +
           " kHz; each cell shows the loudest FFT bin in it.</p>";
}

std::string correlationPlot(const AnalysisResult& a) {
    const StereoImage& s = a.stereo;
    const double duration = std::max(a.loudness.durationSeconds, 0.1);
    SvgPlot p(kPlotWidth, 220, 0.0, duration, -1.0, 1.0);
    p.setTitle("Stereo correlation");
    p.setXLabel("time");
    p.setYLabel("correlation");
    timeAxis(p, duration);
    p.yTicks({-1.0, -0.5, 0.0, 0.5, 1.0}, {"−1", "−0.5", "0", "+0.5", "+1"});
    std::vector<double> t;
    for (std::size_t i = 0; i < s.correlation100ms.size(); ++i) {
        t.push_back(static_cast<double>(i + 1) * s.stepSeconds);
    }
    p.line(t, s.correlation100ms, "correlation-100ms", "corr01");
    p.line(t, s.correlation3s, "correlation-3s", "corr3");
    p.hline(0.0, "zero", "zero", "");
    p.legend("100 ms", "corr01");
    p.legend("3 s", "corr3");
    std::string table = "<table><tr><th>octave band</th>";
    for (double hz : s.bandCentreHz) {
        table += "<th>" +
                 (hz >= 1000.0 ? formatFixed(hz / 1000.0, hz < 2000.0 ? 1 : 0) + "k" : formatFixed(hz, 0)) +
                 "</th>";
    }
    table += "</tr><tr><th>side / mid (dB)</th>";
    for (double v : s.sideToMidDb) {
        table += "<td class=\"num\">" + formatFixed(v, 1) + "</td>";
    }
    table += "</tr><tr><th>mono fold (dB)</th>";
    for (double v : s.monoLossDb) {
        table += "<td class=\"num\">" + formatFixed(v, 1) + "</td>";
    }
    table += "</tr></table><p class=\"sub\">Overall correlation " +
             (s.correlation ? formatFixed(*s.correlation, 2) : std::string("—")) +
             "; folded to mono the mix changes by " + fmt(s.monoLossLu, 1, "LU") +
             " (K-weighted); left/right balance " + fmt(s.balanceDb, 1, "dB") + ".</p>";
    return p.str() + table;
}

std::string codecTable(const CodecPreviewResult& r) {
    std::string t = "<table><tr><th>codec</th><th>loudness change</th><th>true peak after decode</th>"
                    "<th>change</th><th>samples over 0 dBFS</th></tr>";
    for (const auto& c : r.codecs) {
        t += "<tr data-codec=\"" + xmlEscape(c.codec.id) + "\"><td>" + xmlEscape(c.codec.name) +
             "</td><td class=\"num\">" + formatFixed(c.loudnessChangeLu, 2) + " LU</td><td class=\"num\">" +
             fmt(c.decoded.truePeakDbtp ? std::optional<double>(c.decoded.truePeakDbtp->value) : std::nullopt,
                 2, "dBTP") +
             "</td><td class=\"num\">" + formatFixed(c.truePeakChangeDb, 2) + " dB</td><td class=\"num\">" +
             std::to_string(c.samplesOverFullScale) + (c.samplesOverFullScale > 0 ? " (clips)" : "") +
             "</td></tr>";
    }
    return t +
           "</table><p class=\"sub\">Encoded and decoded with FFmpeg's encoders at the platforms' bit rates; "
           "measured on the decoded samples.</p>";
}

std::string platformTable(const std::vector<PlatformPreview>& v);

std::string platformTable(const std::vector<PlatformPreview>& v, const CodecPreviewResult* codecs) {
    if (codecs != nullptr) {
        std::string t =
            "<table><tr><th>platform</th><th>gain</th><th>heard at</th><th>true peak</th><th>codec</th>"
            "<th>true peak after decode</th><th></th></tr>";
        for (const auto& row : codecs->platforms) {
            const PlatformPreview& p = row.preview;
            t += "<tr data-platform=\"" + xmlEscape(p.id) + "\"><td>" + xmlEscape(p.name) +
                 "</td><td class=\"num\">" + fmt(p.gainDb, 1, "dB") + "</td><td class=\"num\">" +
                 fmt(p.loudnessLufs, 1, "LUFS") + "</td><td class=\"num\">" + fmt(p.truePeakDbtp, 1, "dBTP") +
                 (p.truePeakOk && !*p.truePeakOk ? " (over)" : "") + "</td><td>" +
                 (row.codecId.empty() ? std::string("lossless") : xmlEscape(row.codecId)) +
                 "</td><td class=\"num\">" + fmt(row.postCodecTruePeakDbtp, 2, "dBTP") +
                 (row.postCodecTruePeakOk && !*row.postCodecTruePeakOk ? " (over)" : "") +
                 (row.clipsAfterDecode ? " clips" : "") + "</td><td>" + xmlEscape(p.note) + "</td></tr>";
        }
        return t + "</table>" + codecTable(*codecs);
    }
    return platformTable(v);
}

std::string platformTable(const std::vector<PlatformPreview>& v) {
    std::string t =
        "<table><tr><th>platform</th><th>gain</th><th>heard at</th><th>true peak</th><th></th></tr>";
    for (const auto& p : v) {
        t += "<tr data-platform=\"" + xmlEscape(p.id) + "\"><td>" + xmlEscape(p.name) +
             "</td><td class=\"num\">" + fmt(p.gainDb, 1, "dB") + "</td><td class=\"num\">" +
             fmt(p.loudnessLufs, 1, "LUFS") + "</td><td class=\"num\">" + fmt(p.truePeakDbtp, 1, "dBTP") +
             (p.truePeakOk && !*p.truePeakOk ? " (over)" : "") + "</td><td>" + xmlEscape(p.note) +
             "</td></tr>";
    }
    return t + "</table>";
}

/// One small plot per model (the reference left out: it is the zero line), and the metrics table.
std::string translationHtml(const TranslationResult& t, const TranslationResult* u, const std::string& nameA,
                            const std::string& nameB) {
    constexpr double kSpanDb = 30.0; // the plots show ±30 dB; a phone's missing bass falls off the bottom
    std::string s =
        "<p class=\"sub\">Each curve: the model's render minus the monitors' render, 1/6-octave, "
        "after matching its loudness to the monitors' (so louder never wins). Programme loudness " +
        formatFixed(t.programmeLufs, 1) + " LUFS.</p><div class=\"multiples\">";
    for (std::size_t k = 1; k < t.models.size(); ++k) {
        const SpeakerMetrics& m = t.models[k];
        SvgPlot p(440, 190, t.curveHz.front(), t.curveHz.back(), -kSpanDb, 12.0, true);
        p.setTitle(m.name);
        p.setXLabel("Hz");
        p.setYLabel("dB re monitors");
        frequencyAxis(p, t.curveHz.back());
        const std::vector<double> yt = {-30.0, -20.0, -10.0, 0.0, 10.0};
        p.yTicks(yt, labels(yt, 0));
        p.hline(0.0, "zero", "zero", "");
        std::vector<double> y = m.curveDifferenceDb;
        for (double& v : y) {
            v = std::isfinite(v) ? std::max(v, -kSpanDb) : v;
        }
        p.line(t.curveHz, y, "translation-" + m.id, u != nullptr ? "before" : "diff");
        if (u != nullptr && k < u->models.size()) {
            std::vector<double> z = u->models[k].curveDifferenceDb;
            for (double& v : z) {
                v = std::isfinite(v) ? std::max(v, -kSpanDb) : v;
            }
            p.line(u->curveHz, z, "translation-b-" + m.id, "after");
            p.legend(nameA, "before");
            p.legend(nameB, "after");
        }
        s += "<div><h3>" + xmlEscape(m.name) + "</h3>" + p.str() + "</div>";
    }
    s += "</div>";
    auto table = [](const TranslationResult& r) {
        std::string h =
            "<table><tr><th>model</th><th>loudness vs monitors</th><th>lost bass</th>"
            "<th>1–4 kHz</th><th>balance</th><th>driver active</th><th>mono loss</th><th>verdict</th></tr>";
        for (const SpeakerMetrics& m : r.models) {
            h += "<tr data-speaker=\"" + xmlEscape(m.id) + "\"><td>" + xmlEscape(m.name) +
                 "</td><td class=\"num\">" + formatFixed(m.loudnessDifferenceLu, 1) +
                 " LU</td><td class=\"num\">" + formatFixed(m.lostBassPercent, 0) + " %" +
                 (m.bassLimitHz ? " &lt; " + formatFixed(*m.bassLimitHz, 0) + " Hz" : std::string()) +
                 "</td><td class=\"num\">" + fmt(m.presenceBalanceDb, 1, "dB") + "</td><td class=\"num\">" +
                 formatFixed(m.balanceScore, 0) + "</td><td class=\"num\">" +
                 formatFixed(m.driverActivePercent, 0) + " %</td><td class=\"num\">" +
                 fmt(m.monoLossDb, 1, "dB") + (m.monoProblem ? " (problem)" : "") +
                 "</td><td class=\"verdict\">" + xmlEscape(m.verdict) + "</td></tr>";
        }
        return h + "</table>";
    };
    if (u != nullptr) {
        s += "<h3>" + xmlEscape(nameA) + "</h3>" + table(t) + "<h3>" + xmlEscape(nameB) + "</h3>" + table(*u);
    } else {
        s += table(t);
    }
    return s;
}

std::string parametersTable(const HtmlReportInput& in) {
    const AnalysisResult& a = *in.result;
    const LoudnessParams lp = LoudnessParams::forRate(a.file.sampleRate);
    std::vector<std::pair<std::string, std::string>> rows{
        {"Lathe", LATHE_VERSION},
        {"backend", in.backend},
        {"loudness", "ITU-R BS.1770-5 / EBU R128; 400 ms blocks every " + std::to_string(lp.stepFrames) +
                         " frames; gates −70 LUFS absolute, −10 LU relative (strict)"},
        {"momentary / short-term",
         "maxima at a " + std::to_string(lp.subBlockFrames) + "-frame hop; history every 100 ms"},
        {"loudness range", "EBU Tech 3342: short-term every 100 ms, gates −70 LUFS / −20 LU, P10–P95"},
        {"true peak", "×4 search (24-tap Kaiser sinc, β 7), ×16 around candidates within 2 dB (48-tap, β 8)"},
        {"K-weighting", "BS.1770 analog prototype at " + std::to_string(a.file.sampleRate) +
                            " Hz, RLB gain normalised to 48 kHz"},
        {"channel weights",
         [&] {
             std::string w;
             for (std::size_t c = 0; c < a.loudness.channelWeights.size(); ++c) {
                 w += (c ? ", " : "") +
                      std::string(speakerLabel(c < a.loudness.layout.speakers.size()
                                                   ? a.loudness.layout.speakers[c]
                                                   : Speaker::Unknown)) +
                      " " + formatFixed(a.loudness.channelWeights[c], 2);
             }
             return w;
         }()},
    };
    if (a.spectral) {
        rows.push_back({"spectrum", "Welch, Hann, 50 % overlap, FFT " + std::to_string(a.spectrum.fftSize) +
                                        " (" + formatFixed(a.spectrum.binHz, 2) + " Hz bins), " +
                                        std::to_string(a.spectrum.framesAveraged) + " frames; 1/" +
                                        std::to_string(a.smoothingFraction) + "-octave display smoothing"});
        rows.push_back({"spectrogram", std::to_string(a.spectrogram.columns) + " × " +
                                           std::to_string(a.spectrogram.rows) + ", max and mean pooling"});
    }
    rows.push_back({"loudness target line", formatFixed(in.targetLufs, 1) + " LUFS"});
    for (const auto& p : in.parameters) {
        rows.push_back(p);
    }
    std::string t = "<table>";
    for (const auto& [k, v] : rows) {
        t += "<tr><th>" + xmlEscape(k) + "</th><td>" + xmlEscape(v) + "</td></tr>";
    }
    return t + "</table>";
}

} // namespace

std::string renderHtmlReport(const HtmlReportInput& in) {
    LATHE_EXPECTS(in.result != nullptr, "report without a result");
    const AnalysisResult& a = *in.result;
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char date[64];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&now));
    const std::string name = a.file.path.filename().string();

    std::string h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>"
                    "<meta charset=\"utf-8\"/><title>Lathe analysis — " +
                    xmlEscape(name) + "</title><style>" + kStyle + "</style></head>\n<body>\n";
    h += "<h1>Lathe analysis — " + xmlEscape(name) + "</h1><p class=\"sub\">" +
         xmlEscape(a.file.path.string()) +
         (in.compare ? " compared with " + xmlEscape(in.compare->file.path.string()) : std::string()) +
         " · " + date + " · Lathe " + LATHE_VERSION + "</p>\n";
    h += section("summary", "Summary", summaryTable(a, in.compare));
    const std::string firstName = in.compare ? "<h3>" + xmlEscape(name) + "</h3>" : std::string();
    h += section("readiness", "Mix readiness",
                 firstName + findingsHtml(a) +
                     (in.compare ? "<h3>" + xmlEscape(in.compare->file.path.filename().string()) + "</h3>" +
                                       findingsHtml(*in.compare)
                                 : std::string()));
    h += section("loudness-history", "Loudness over time",
                 firstName + loudnessPlot(a, in.targetLufs, in.targetLabel) +
                     (in.compare ? "<h3>" + xmlEscape(in.compare->file.path.filename().string()) + "</h3>" +
                                       loudnessPlot(*in.compare, in.targetLufs, in.targetLabel)
                                 : std::string()));
    h += section("loudness-histogram", "Loudness distribution", histogramPlot(a));
    if (!in.gainReduction.empty()) {
        h += section("gain-reduction", "Gain reduction (the master's dynamics, largest per 100 ms)",
                     gainReductionPlot(in.gainReduction));
    }
    if (a.spectral) {
        h += section("spectrum", in.compare ? "Spectrum before and after" : "Spectrum",
                     spectrumPlot(a, in.compare));
        h += section("spectrogram", "Spectrogram", spectrogramPlot(a));
        if (a.file.channels == 2) {
            h += section("stereo", "Stereo image", correlationPlot(a));
        }
    }
    if (!in.platforms.empty()) {
        h += section("platforms", "Streaming platforms and delivery specifications",
                     platformTable(in.platforms, in.codecs));
    }
    if (in.translation != nullptr) {
        h += section("translation", "Translation across speakers",
                     translationHtml(*in.translation, in.translationCompare, name,
                                     in.compare ? in.compare->file.path.filename().string() : std::string()));
    }
    h += section("parameters", "Parameters", parametersTable(in));
    h += "</body>\n</html>\n";
    return h;
}

std::vector<GainReductionSeries> gainReductionSeries(const RenderReport& report) {
    std::vector<GainReductionSeries> out;
    for (const StageRecord& st : report.stages) {
        const auto it = st.details.find("gain_reduction_history");
        if (it == st.details.end()) {
            continue;
        }
        const double step = (*it)["step_s"].get<double>();
        if (it->contains("bands_db")) {
            const auto& bands = (*it)["bands_db"];
            for (std::size_t k = 0; k < bands.size(); ++k) {
                out.push_back(
                    {st.name + " band " + std::to_string(k + 1), step, bands[k].get<std::vector<double>>()});
            }
        } else {
            out.push_back({st.name, step, (*it)["db"].get<std::vector<double>>()});
        }
    }
    return out;
}

} // namespace lathe
