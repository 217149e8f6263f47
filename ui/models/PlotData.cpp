// SPDX-License-Identifier: GPL-3.0-or-later
#include "PlotData.h"

#include <algorithm>
#include <cmath>

namespace lathe::ui {

QList<Series> loudnessSeries(const LoudnessResult& loudness, double floorLufs) {
    const LoudnessHistory& h = loudness.history;
    QList<Series> out{{QStringLiteral("Momentary"), {}}, {QStringLiteral("Short-term"), {}}};
    const std::vector<double>* curves[2] = {&h.momentaryLufs, &h.shortTermLufs};
    for (int c = 0; c < 2; ++c) {
        const auto& v = *curves[c];
        out[c].points.reserve(static_cast<qsizetype>(v.size()));
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (std::isnan(v[i])) {
                continue; // not yet defined (the first 400 ms / 3 s)
            }
            out[c].points.append({static_cast<double>(i + 1) * h.stepSeconds, std::max(v[i], floorLufs)});
        }
    }
    return out;
}

QList<Series> spectrumSeries(const LongTermSpectrum& spectrum, int smoothingFraction) {
    QList<Series> out;
    if (spectrum.binHz <= 0 || spectrum.power.empty()) {
        return out;
    }
    // The engine's display curve (the same smoothing and sampling as the HTML report).
    const std::vector<double> hz = logFrequencies(20.0, std::min(20000.0, spectrum.sampleRate / 2.0), 48);
    for (std::size_t c = 0; c < spectrum.power.size(); ++c) {
        Series s;
        s.name =
            QString::fromStdString(c < spectrum.labels.size() ? spectrum.labels[c] : std::to_string(c + 1));
        const std::vector<double> db = spectrumCurveDb(spectrum, c, smoothingFraction, hz);
        for (std::size_t k = 0; k < hz.size() && k < db.size(); ++k) {
            if (std::isfinite(db[k])) {
                s.points.append({hz[k], db[k]});
            }
        }
        out.append(s);
    }
    return out;
}

QList<QPointF> decimateMinMax(const QList<QPointF>& points, int maxPoints) {
    const qsizetype buckets = std::max(1, maxPoints / 2);
    if (points.size() <= 2 * buckets) {
        return points;
    }
    QList<QPointF> out;
    out.reserve(2 * buckets);
    for (qsizetype b = 0; b < buckets; ++b) {
        const qsizetype first = points.size() * b / buckets;
        const qsizetype last = points.size() * (b + 1) / buckets; // exclusive
        qsizetype lo = first;
        qsizetype hi = first;
        for (qsizetype k = first + 1; k < last; ++k) {
            lo = points[k].y() < points[lo].y() ? k : lo;
            hi = points[k].y() > points[hi].y() ? k : hi;
        }
        out.append(points[std::min(lo, hi)]);
        if (lo != hi) {
            out.append(points[std::max(lo, hi)]);
        }
    }
    return out;
}

std::vector<LevelMarker> platformMarkers(const std::vector<Platform>& platforms, double minSpacingLu) {
    struct Group {
        double lufs;
        QString first;
        int count;
        std::size_t order; // the table's order breaks ties
    };
    std::vector<Group> groups;
    for (const Platform& p : platforms) {
        if (!p.targetLufs) {
            continue;
        }
        auto it = std::find_if(groups.begin(), groups.end(),
                               [&](const Group& g) { return g.lufs == *p.targetLufs; });
        if (it != groups.end()) {
            ++it->count;
            continue;
        }
        groups.push_back({*p.targetLufs, QString::fromStdString(p.id), 1, groups.size()});
    }
    std::stable_sort(groups.begin(), groups.end(),
                     [](const Group& a, const Group& b) { return a.count > b.count; });
    std::vector<LevelMarker> kept;
    for (const Group& g : groups) {
        const bool crowded = std::any_of(kept.begin(), kept.end(), [&](const LevelMarker& m) {
            return std::abs(m.lufs - g.lufs) < minSpacingLu;
        });
        if (crowded) {
            continue;
        }
        QString label = QString::number(g.lufs, 'g', 4).replace(QLatin1Char('-'), QChar(0x2212)) +
                        QLatin1Char(' ') + g.first;
        if (g.count > 1) {
            label += QStringLiteral(" +%1").arg(g.count - 1);
        }
        kept.push_back({g.lufs, label});
    }
    std::sort(kept.begin(), kept.end(),
              [](const LevelMarker& a, const LevelMarker& b) { return a.lufs < b.lufs; });
    return kept;
}

QString formatTime(double seconds) {
    if (!(seconds >= 0)) {
        return QStringLiteral("—");
    }
    const auto total = static_cast<long long>(seconds);
    if (total >= 3600) {
        return QStringLiteral("%1:%2:%3")
            .arg(total / 3600)
            .arg((total / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(total % 60, 2, 10, QLatin1Char('0'));
    }
    return QStringLiteral("%1:%2").arg(total / 60).arg(std::fmod(seconds, 60.0), 4, 'f', 1, QLatin1Char('0'));
}

QString formatLevel(const std::optional<double>& value, const char* unit, int decimals) {
    if (!value || !std::isfinite(*value)) {
        return QStringLiteral("—");
    }
    return QStringLiteral("%1 %2").arg(*value, 0, 'f', decimals).arg(QLatin1String(unit));
}

} // namespace lathe::ui
