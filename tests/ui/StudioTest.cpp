// Lathe Studio, offscreen: the item models under QAbstractItemModelTester, the engine controller
// end to end (analyse, master, cancel), and the main window's views with data — saved as PNG
// screenshots (build/…/tests/ui-screenshots/) and checked not to be blank.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "TestSignals.h"
#include "app/MainWindow.h"
#include "models/ChainModel.h"
#include "models/FindingsModel.h"
#include "models/PlatformTableModel.h"
#include "models/PlaybackSource.h"
#include "models/PlotData.h"
#include "models/TranslationModel.h"
#include "widgets/ChoiceDelegate.h"
#include "widgets/CorrelationView.h"
#include "widgets/DynamicsView.h"
#include "widgets/EqCurveView.h"
#include "widgets/HistogramView.h"
#include "widgets/LoudnessView.h"
#include "widgets/Player.h"
#include "widgets/SpectrogramView.h"
#include "widgets/SpectrumView.h"
#include "widgets/StereoBandsView.h"
#include "widgets/Theme.h"
#include "widgets/TranslationView.h"

#include <lathe/FileOutput.h>
#include <lathe/Master.h>
#include <lathe/Platforms.h>
#include <lathe/RenderJob.h>
#include <lathe/signals/DemoMix.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QImage>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <QUrl>
#include <QWheelEvent>
#include <set>

namespace lathe::ui {
namespace {

/// A job on the 30-second demo mix finishes in a few seconds here; a minute is a hang.
constexpr int kJobTimeoutMs = 60000;

/// The demo mix, written once per test run.
QString demoMix() {
    static QTemporaryDir dir;
    static const QString path = [] {
        const QString p = dir.filePath(QStringLiteral("demo-mix.wav"));
        signals::DemoMixSettings s;
        s.durationSeconds = 30;
        signals::DemoMix source(s);
        auto cpu = makeCpuBackend();
        RenderOptions o;
        o.format = SampleFormat::Pcm24;
        render(source, {}, p.toStdString(), o, *cpu);
        return p;
    }();
    return path;
}

bool waitFor(QSignalSpy& spy, QSignalSpy& failed) {
    for (int waited = 0; waited < kJobTimeoutMs && spy.isEmpty() && failed.isEmpty(); waited += 50) {
        spy.wait(50);
    }
    return !spy.isEmpty();
}

TEST(PlotData, LoudnessAndSpectrumSeriesComeFromTheResult) {
    LoudnessResult l;
    l.history.stepSeconds = 0.1;
    l.history.momentaryLufs = {NAN, NAN, NAN, -20.0, -200.0};
    l.history.shortTermLufs = {NAN, NAN, NAN, NAN, -18.0};
    const QList<Series> s = loudnessSeries(l, -60.0);
    ASSERT_EQ(s.size(), 2);
    ASSERT_EQ(s[0].points.size(), 2); // undefined steps are gaps, silence is clamped to the floor
    EXPECT_DOUBLE_EQ(s[0].points[0].x(), 0.4);
    EXPECT_DOUBLE_EQ(s[0].points[1].y(), -60.0);
    EXPECT_EQ(s[1].points.size(), 1);

    // A flat spectrum of power 1e-6 per bin reads −60 dB at every display frequency from 20 Hz to
    // 20 kHz (unsmoothed; the engine's smoothing is tested in tests/unit/SpectrumTest).
    LongTermSpectrum sp;
    sp.sampleRate = 48000;
    sp.fftSize = 4800;
    sp.binHz = 10.0;
    sp.labels = {"L"};
    sp.power = {std::vector<double>(2401, 1e-6)};
    for (int fraction : {0, 6}) {
        const QList<Series> c = spectrumSeries(sp, fraction);
        ASSERT_EQ(c.size(), 1);
        ASSERT_GT(c[0].points.size(), 400); // 48 points per octave over ~10 octaves
        EXPECT_NEAR(c[0].points.front().x(), 20.0, 1e-9);
        EXPECT_LE(c[0].points.back().x(), 20000.0);
        if (fraction == 0) { // unsmoothed: the bins themselves, exactly
            for (const QPointF& p : c[0].points) {
                EXPECT_NEAR(p.y(), -60.0, 1e-9) << p.x();
            }
        }
    }
    // Decimation for drawing keeps every bucket's extremes: a spike and a dip in 100 000 points
    // survive a reduction to about 1000.
    QList<QPointF> many;
    for (int i = 0; i < 100000; ++i) {
        many.append({static_cast<double>(i), i == 31337 ? 9.0 : i == 77777 ? -9.0 : std::sin(i * 0.001)});
    }
    const QList<QPointF> few = decimateMinMax(many, 1000);
    EXPECT_LE(few.size(), 1000);
    EXPECT_EQ(std::max_element(few.begin(), few.end(), [](auto a, auto b) { return a.y() < b.y(); })->x(),
              31337.0);
    EXPECT_EQ(std::min_element(few.begin(), few.end(), [](auto a, auto b) { return a.y() < b.y(); })->x(),
              77777.0);
    EXPECT_TRUE(std::is_sorted(few.begin(), few.end(), [](auto a, auto b) { return a.x() < b.x(); }));
    EXPECT_EQ(decimateMinMax(few, 5000), few); // short lines are left alone
    EXPECT_EQ(formatTime(75.2), QStringLiteral("1:15.2"));
    EXPECT_EQ(formatTime(3725), QStringLiteral("1:02:05"));
}

// Platform markers: one per distinct target, labelled with the first platform's id and how many
// more share it; a value crowding one kept already (shared by more platforms) is left out.
TEST(PlotData, PlatformMarkersGroupAndThinOut) {
    auto platform = [](const char* id, std::optional<double> lufs) {
        Platform p;
        p.id = id;
        p.targetLufs = lufs;
        return p;
    };
    const std::vector<Platform> table{platform("a", -11.0), platform("b", -14.0),        platform("c", -14.0),
                                      platform("d", -15.0), platform("e", std::nullopt), platform("f", -23.0),
                                      platform("g", -14.0), platform("h", -24.5)};
    const std::vector<LevelMarker> m = platformMarkers(table, 2.0);
    // −14 (3 platforms) first; −11 is 3 LU away (kept), −15 is 1 LU from −14 (dropped), −23
    // kept, −24.5 is 1.5 LU from −23 (dropped); sorted by level.
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].lufs, -23.0);
    EXPECT_EQ(m[0].label, QStringLiteral("\u221223 f"));
    EXPECT_EQ(m[1].lufs, -14.0);
    EXPECT_EQ(m[1].label, QStringLiteral("\u221214 b +2"));
    EXPECT_EQ(m[2].label, QStringLiteral("\u221211 a"));
    EXPECT_EQ(platformMarkers(table, 0.5).size(), 5u) << "every distinct target when there is room";
}

// A/B playback: what the sink reads is each file's samples times its level-matching gain (the
// louder file down to the quieter one's loudness), the switch keeps the position, a loop repeats.
TEST(Playback, LevelMatchedABAtTheSamePositionAndLoops) {
    QTemporaryDir dir;
    const QString a = dir.filePath(QStringLiteral("a.wav"));
    const QString b = dir.filePath(QStringLiteral("b.wav"));
    const test::Planar mix{test::noise(48000, 0.25, 1), test::noise(48000, 0.25, 2)};
    const test::Planar master{test::noise(48000, 0.5, 3), test::noise(48000, 0.5, 4)};
    test::writeRawFloat(a.toStdString(), mix, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    test::writeRawFloat(b.toStdString(), master, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    PlaybackSource src(a, -20.0, b, -14.0); // the master is 6 dB louder: it plays 6 dB down
    EXPECT_DOUBLE_EQ(src.gainDb(PlaybackSource::Which::Mix), 0.0);
    EXPECT_DOUBLE_EQ(src.gainDb(PlaybackSource::Which::Master), -6.0);
    const float masterGain = static_cast<float>(std::pow(10.0, -6.0 / 20.0));
    auto readFrames = [&](Frames n) {
        std::vector<float> v(static_cast<std::size_t>(n) * 2);
        const qint64 got =
            src.read(reinterpret_cast<char*>(v.data()), static_cast<qint64>(v.size() * sizeof(float)));
        v.resize(static_cast<std::size_t>(got) / sizeof(float));
        return v;
    };
    const std::vector<float> first = readFrames(1000);
    ASSERT_EQ(first.size(), 2000u);
    for (std::size_t i = 0; i < 1000; ++i) {
        ASSERT_EQ(first[2 * i], mix[0][i]);
        ASSERT_EQ(first[2 * i + 1], mix[1][i]);
    }
    src.select(PlaybackSource::Which::Master);
    EXPECT_EQ(src.position(), 1000);
    const std::vector<float> next = readFrames(500);
    for (std::size_t i = 0; i < 500; ++i) {
        ASSERT_EQ(next[2 * i], master[0][1000 + i] * masterGain) << i;
        ASSERT_EQ(next[2 * i + 1], master[1][1000 + i] * masterGain) << i;
    }
    // A loop of frames [2000, 2100): reading 250 frames from 1990 wraps twice.
    src.setLoop(2000, 2100);
    src.seekFrame(1990);
    const std::vector<float> looped = readFrames(250);
    ASSERT_EQ(looped.size(), 500u);
    for (std::size_t i = 0; i < 250; ++i) {
        const std::size_t frame = i < 10 ? 1990 + i : 2000 + (i - 10) % 100;
        ASSERT_EQ(looped[2 * i], master[0][frame] * masterGain) << i;
    }
    // A speaker render plays at the master's gain (it is level-matched to the master already),
    // from the same position.
    const QString phone = dir.filePath(QStringLiteral("phone.wav"));
    const test::Planar render{test::noise(48000, 0.1, 5), test::noise(48000, 0.1, 6)};
    test::writeRawFloat(phone.toStdString(), render, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    src.setLoop(0, 0);
    src.seekFrame(3000);
    src.setSpeaker(phone, QStringLiteral("Phone speaker"));
    src.select(PlaybackSource::Which::Speaker);
    EXPECT_EQ(src.speakerName(), QStringLiteral("Phone speaker"));
    const std::vector<float> onPhone = readFrames(100);
    ASSERT_EQ(onPhone.size(), 200u);
    for (std::size_t i = 0; i < 100; ++i) {
        ASSERT_EQ(onPhone[2 * i + 1], render[1][3000 + i] * masterGain) << i;
    }
    // A master at another rate cannot share the stream: a clear error.
    const QString c = dir.filePath(QStringLiteral("c.wav"));
    test::writeRawFloat(c.toStdString(), mix, 44100, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    EXPECT_THROW(PlaybackSource(a, -20.0, c, -14.0), UsageError);
}

TEST(Studio, AnalysesMastersAndShowsEveryViewWithData) {
    QTemporaryDir out;
    MainWindow w;
    w.resize(1600, 1000);
    w.show();
    QSignalSpy analysed(&w.engine(), &EngineController::analysisFinished);
    QSignalSpy mastered(&w.engine(), &EngineController::masterFinished);
    QSignalSpy failed(&w.engine(), &EngineController::failed);
    w.openFile(demoMix());
    ASSERT_TRUE(waitFor(analysed, failed)) << w.lastError().toStdString();

    // The models, checked by Qt's own tester while they are reset with real data.
    QAbstractItemModelTester platforms(const_cast<PlatformTableModel*>(&w.platformModel()),
                                       QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester findings(const_cast<FindingsModel*>(&w.findingsModel()),
                                      QAbstractItemModelTester::FailureReportingMode::Fatal);
    EXPECT_GT(w.platformModel().rowCount(), 5);
    EXPECT_GT(w.loudnessView()->pointCount(), 200); // 30 s of 100 ms steps, two lines
    EXPECT_TRUE(w.loudnessView()->markerLabels().contains(QStringLiteral("\u221214 spotify +3")))
        << w.loudnessView()->markerLabels().join(QLatin1Char('|')).toStdString();
    EXPECT_GT(w.spectrumView()->pointCount(), 100);
    EXPECT_GT(w.histogramView()->pointCount(), 20);

    const QString master = out.filePath(QStringLiteral("demo.master.wav"));
    w.masterTo(master);
    ASSERT_TRUE(waitFor(mastered, failed)) << w.lastError().toStdString();
    ASSERT_TRUE(w.engine().masterResult());
    const auto& m = w.engine().masterResult()->analysis.loudness;
    ASSERT_TRUE(m.integratedLufs.has_value());
    EXPECT_NEAR(*m.integratedLufs, -14.0, kTargetToleranceLu); // the default preset's target
    EXPECT_TRUE(QFileInfo::exists(master));
    EXPECT_GT(w.spectrumView()->differencePoints(), 100); // master − mix
    // The side curve unsmoothed is a different curve from the smoothed mid one.
    const int midPoints = w.spectrumView()->pointCount();
    w.setSpectrumOptions(QStringLiteral("S"), 0);
    EXPECT_TRUE(w.spectrumView()->chart()->title().contains(QStringLiteral("side")));
    EXPECT_TRUE(w.spectrumView()->chart()->title().contains(QStringLiteral("no smoothing")));
    EXPECT_GT(w.spectrumView()->pointCount(), 0);
    w.setSpectrumOptions(QStringLiteral("M"), 6);
    EXPECT_EQ(w.spectrumView()->pointCount(), midPoints);
    EXPECT_TRUE(w.spectrogramView()->hasData());
    {
        // The wheel zooms the spectrogram's time axis around the mouse; a double click shows it all.
        SpectrogramView* sg = w.spectrogramView();
        w.tabs()->setCurrentWidget(sg);
        QApplication::processEvents();
        const auto [b0, e0] = sg->visibleSeconds();
        const QPointF middle(sg->width() / 2.0, sg->height() / 2.0);
        QWheelEvent wheel(middle, sg->mapToGlobal(middle), QPoint(), QPoint(0, 120), Qt::NoButton,
                          Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(sg, &wheel);
        const auto [b1, e1] = sg->visibleSeconds();
        EXPECT_LT(e1 - b1, e0 - b0);
        EXPECT_GT(b1, b0);
        // Ctrl+wheel: the frequency axis, 0.8 of its octaves, the frequency under the mouse kept.
        const auto [lo0, hi0] = sg->visibleHz();
        const QPointF low(sg->width() / 2.0, sg->height() * 0.7);
        const double under = sg->hzAt(low.y());
        QWheelEvent ctrlWheel(low, sg->mapToGlobal(low), QPoint(), QPoint(0, 120), Qt::NoButton,
                              Qt::ControlModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(sg, &ctrlWheel);
        const auto [lo1, hi1] = sg->visibleHz();
        // Closed forms on the log axis; 1e-9 relative is double rounding of log2/exp2.
        constexpr double kLogRounding = 1e-9;
        EXPECT_NEAR(std::log2(hi1 / lo1), 0.8 * std::log2(hi0 / lo0), kLogRounding);
        EXPECT_NEAR(sg->hzAt(low.y()) / under, 1.0, kLogRounding);
        EXPECT_EQ(sg->visibleSeconds(), std::make_pair(b1, e1)) << "time is left alone";
        QTest::mouseDClick(sg, Qt::LeftButton);
        EXPECT_EQ(sg->visibleSeconds(), std::make_pair(b0, e0));
        EXPECT_EQ(sg->visibleHz(), std::make_pair(lo0, hi0));
    }
    EXPECT_GT(w.correlationView()->pointCount(), 200);
    EXPECT_GE(w.stereoBandsView()->pointCount(), 2 * 8); // octave bands 31.5 Hz–16 kHz, mix and master
    // Four multiband bands and the limiter, 100 ms steps over 30 s.
    EXPECT_EQ(w.engine().masterResult()->gainReduction.size(), 5u);
    EXPECT_GT(w.dynamicsView()->pointCount(), 5 * 250);

    // The transport: level-matched A/B where there is an audio output, else it says why not.
    if (w.player().available()) {
        EXPECT_TRUE(w.playbackText().contains(QStringLiteral("Level-matched")))
            << w.playbackText().toStdString();
    } else {
        EXPECT_TRUE(w.playbackText().startsWith(QStringLiteral("Playback unavailable:")))
            << w.playbackText().toStdString();
    }

    // A drag across the loudness history from 10 s to 15 s loops playback there.
    w.tabs()->setCurrentIndex(0);
    QApplication::processEvents();
    LoudnessView* lv = w.loudnessView();
    const int midY = lv->height() / 2;
    const QPoint from(static_cast<int>(lv->xOfSeconds(10.0)), midY);
    const QPoint to(static_cast<int>(lv->xOfSeconds(15.0)), midY);
    QTest::mousePress(lv->viewport(), Qt::LeftButton, {}, from);
    QTest::mouseRelease(lv->viewport(), Qt::LeftButton, {}, to);
    ASSERT_NE(w.player().source(), nullptr);
    w.updatePlayhead(); // the loop moved the position to its start
    EXPECT_NEAR(lv->playhead() * 48000, static_cast<double>(w.player().source()->position()), 1.0);
    const auto [loopBegin, loopEnd] = w.player().source()->loop();
    // Two pixels of a 30 s plot about 1200 px wide, at 48 kHz.
    const double kPixelFrames = 2.0 * 30.0 / 1200.0 * 48000.0;
    EXPECT_NEAR(static_cast<double>(loopBegin), 10.0 * 48000, kPixelFrames);
    EXPECT_NEAR(static_cast<double>(loopEnd), 15.0 * 48000, kPixelFrames);

    // Translation of the master over the nine built-in speaker models: a row each, a curve for
    // every model but the reference.
    QSignalSpy translated(&w.engine(), &EngineController::translationFinished);
    w.compareSpeakers();
    ASSERT_TRUE(waitFor(translated, failed)) << w.lastError().toStdString();
    QAbstractItemModelTester speakers(const_cast<TranslationModel*>(&w.translationModel()),
                                      QAbstractItemModelTester::FailureReportingMode::Fatal);
    EXPECT_EQ(w.translationModel().rowCount(), 9);
    EXPECT_EQ(w.engine().translation()->which, QStringLiteral("master"));
    EXPECT_GT(w.translationView()->pointCount(), 8 * 100);
    // Listening through a model: the master's render on the phone, at the master's gain.
    for (const SpeakerMetrics& model : w.engine().translation()->result.models) {
        ASSERT_TRUE(model.render.has_value()) << model.id;
        EXPECT_TRUE(std::filesystem::exists(*model.render)) << model.id;
    }
    ASSERT_TRUE(w.playSpeaker(QStringLiteral("phone")));
    ASSERT_NE(w.player().source(), nullptr);
    EXPECT_EQ(w.player().source()->selected(), PlaybackSource::Which::Speaker);
    EXPECT_EQ(w.player().source()->gainDb(PlaybackSource::Which::Speaker),
              w.player().source()->gainDb(PlaybackSource::Which::Master));
    EXPECT_TRUE(w.playbackText().contains(QStringLiteral("Phone")) || !w.player().available())
        << w.playbackText().toStdString();
    EXPECT_FALSE(w.playSpeaker(QStringLiteral("no-such-model")));

    // The report: the engine's HTML (well-formed XML, as the CLI's) and the JSON beside it.
    const QString report = out.filePath(QStringLiteral("demo.report.html"));
    ASSERT_TRUE(w.exportReportTo(report)) << w.lastError().toStdString();
    QFile html(report);
    ASSERT_TRUE(html.open(QIODevice::ReadOnly));
    const QByteArray text = html.readAll();
    EXPECT_TRUE(text.contains("demo.master.wav")) << "the master is the comparison";
    EXPECT_TRUE(QFileInfo::exists(out.filePath(QStringLiteral("demo.report.json"))));

    // Screenshots of every tab at 1600×1000, each with real content.
    const QString dir = QDir::current().filePath(QStringLiteral("ui-screenshots"));
    QDir().mkpath(dir);
    for (int t = 0; t < w.tabs()->count(); ++t) {
        w.tabs()->setCurrentIndex(t);
        QApplication::processEvents();
        const QImage img = w.grab().toImage();
        EXPECT_EQ(img.size(), QSize(1600, 1000));
        const QString name = w.tabs()->tabText(t).toLower();
        img.save(QDir(dir).filePath(name + QStringLiteral(".png")));
        // The tab's own area is not blank: antialiased text and lines give many colours; a chart
        // (lines, grid, labels) far more than a table or a sentence.
        const QImage tab = w.tabs()->currentWidget()->grab().toImage();
        std::set<QRgb> colours;
        for (int y = 0; y < tab.height(); y += 2) {
            for (int x = 0; x < tab.width(); x += 2) {
                colours.insert(tab.pixel(x, y));
            }
        }
        const bool chart = t < 6; // loudness, spectrum, spectrogram, stereo, dynamics, translation
        EXPECT_GT(colours.size(), chart ? 200u : 20u) << name.toStdString() << ": looks blank";
    }
}

/// The model index of the node at `labels` (a path of Name-column texts from the top).
QModelIndex find(const QAbstractItemModel& m, const QStringList& labels) {
    QModelIndex parent;
    for (const QString& label : labels) {
        QModelIndex found;
        for (int r = 0; r < m.rowCount(parent); ++r) {
            const QModelIndex i = m.index(r, 0, parent);
            if (i.data().toString() == label) {
                found = i;
            }
        }
        if (!found.isValid()) {
            return {};
        }
        parent = found;
    }
    return parent;
}

// The chain editor edits the preset document itself; the engine validates every edit.
TEST(ChainEditor, EditsBypassesAndRefusesWhatTheEngineRefuses) {
    ChainModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
    m.setDocument(loadPresetDocument("default"));
    // A band's row reads as an engineer would say it, from the document's values.
    EXPECT_EQ(find(m, {"eq", "band 2"}).siblingAtColumn(ChainModel::Value).data().toString(),
              QStringLiteral("bell · 250 Hz · \u22120.8 dB · Q 0.9"));
    EXPECT_EQ(find(m, {"multiband", "band 1"}).siblingAtColumn(ChainModel::Value).data().toString(),
              QStringLiteral("\u221226 dB · 1.4:1 · 30/300 ms · knee 10 dB"));
    const QModelIndex gain = find(m, {"eq", "band 2", "gain_db"});
    ASSERT_TRUE(gain.isValid());
    const QModelIndex gainValue = gain.siblingAtColumn(ChainModel::Value);
    EXPECT_EQ(gainValue.data().toString(), QStringLiteral("-0.8"));
    ASSERT_TRUE(m.setData(gainValue, QStringLiteral("-1.5")));
    EXPECT_EQ(m.document().json["stages"][0]["bands"][1]["gain_db"].get<double>(), -1.5);
    EXPECT_EQ(m.preset().stages.size(), 3u);

    // A ratio below 1 is not a compressor: the engine's message, the document unchanged.
    const QModelIndex ratio = find(m, {"multiband", "band 1", "ratio"}).siblingAtColumn(ChainModel::Value);
    ASSERT_TRUE(ratio.isValid());
    QSignalSpy rejected(&m, &ChainModel::editRejected);
    EXPECT_FALSE(m.setData(ratio, QStringLiteral("-5")));
    EXPECT_EQ(rejected.size(), 1);
    EXPECT_TRUE(m.lastError().contains(QStringLiteral("ratio"))) << m.lastError().toStdString();
    EXPECT_EQ(m.document().json["stages"][1]["bands"][0]["ratio"].get<double>(), 1.4);

    // Unchecking a stage bypasses it; the splits list edits as "a, b, c".
    const QModelIndex multiband = find(m, {"multiband"});
    ASSERT_TRUE(m.setData(multiband, Qt::Unchecked, Qt::CheckStateRole));
    EXPECT_TRUE(m.document().json["stages"][1]["bypass"].get<bool>());
    EXPECT_TRUE(m.preset().stages[1].bypass);
    const QModelIndex splits = find(m, {"multiband", "splits_hz"}).siblingAtColumn(ChainModel::Value);
    EXPECT_EQ(splits.data().toString(), QStringLiteral("120, 1000, 6000"));
    ASSERT_TRUE(m.setData(splits, QStringLiteral("150, 1200, 7000")));
    EXPECT_EQ(m.document().json["stages"][1]["splits_hz"][0].get<double>(), 150.0);
}

// Dragging an EQ node up and to the right raises the band's gain and frequency in the document,
// and the curve drawn passes through the new gain at the new frequency (the engine's target).
TEST(ChainEditor, DraggingAnEqNodeEditsTheBand) {
    ChainModel m;
    m.setDocument(loadPresetDocument("default"));
    EqCurveView view(m);
    view.resize(1000, 500);
    view.show();
    const auto start = view.nodePosition(1); // band 2: bell, 250 Hz, −0.8 dB
    ASSERT_TRUE(start.has_value());
    const QPoint from = start->toPoint();
    const QPoint to = from + QPoint(80, -60);
    QTest::mousePress(&view, Qt::LeftButton, {}, from);
    QMouseEvent move(QEvent::MouseMove, QPointF(to), view.mapToGlobal(QPointF(to)), Qt::NoButton,
                     Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&view, &move);
    QTest::mouseRelease(&view, Qt::LeftButton, {}, to);
    const auto& band = m.document().json["stages"][0]["bands"][1];
    const double hz = band["hz"].get<double>();
    const double gain = band["gain_db"].get<double>();
    EXPECT_GT(hz, 250.0);
    EXPECT_GT(gain, -0.8);
    // A bell's gain is its response at its own frequency (the other bands add a little there).
    const auto drawn = view.curveDbAt(hz);
    ASSERT_TRUE(drawn.has_value());
    // The highpass at 22 Hz, the bell at 3.5 kHz and the shelf at 12 kHz add well under 0.1 dB
    // near 300 Hz; a node drawn at the wrong band or a curve not redrawn is off by ≥ 0.8 dB.
    constexpr double kOtherBandsDb = 0.2;
    EXPECT_NEAR(*drawn, gain, kOtherBandsDb);
    const auto node = view.nodePosition(1);
    ASSERT_TRUE(node.has_value());
    // The node followed the mouse, within the rounding of what is stored (3 significant figures in
    // Hz: < 0.5 px here; 0.1 dB: < 0.8 px at this height).
    constexpr double kRoundingPixels = 2.0;
    EXPECT_NEAR(node->x(), to.x(), kRoundingPixels);
    EXPECT_NEAR(node->y(), to.y(), kRoundingPixels);
}

// Bands and stages come and go through the engine's validation too.
TEST(ChainEditor, AddsAndRemovesBandsAndStages) {
    ChainModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
    m.setDocument(loadPresetDocument("default"));
    ASSERT_TRUE(m.addBand(0));
    ASSERT_EQ(m.document().json["stages"][0]["bands"].size(), 5u);
    EXPECT_TRUE(find(m, {"eq", "band 5"}).isValid());
    EXPECT_EQ(m.stageAndBand(find(m, {"eq", "band 5", "hz"})), std::make_pair(0, 4));
    ASSERT_TRUE(m.removeBand(0, 0)); // the high-pass goes; the bell at 250 Hz is band 1 now
    EXPECT_EQ(m.document().json["stages"][0]["bands"][0]["hz"].get<double>(), 250.0);
    EXPECT_FALSE(m.addBand(2)) << "the limiter has no bands";
    ASSERT_TRUE(m.addStage(QStringLiteral("eq")));
    EXPECT_EQ(m.preset().stages.size(), 4u);
    ASSERT_TRUE(m.removeStage(3));
    EXPECT_EQ(m.preset().stages.size(), 3u);
    EXPECT_EQ(m.preset().stages[2].type, "limiter");
    EXPECT_FALSE(m.addStage(QStringLiteral("chorus")));
    EXPECT_EQ(m.preset().stages.size(), 3u);
}

// A multiband's bands follow its splits: adding splits the widest band (in octaves) at its
// geometric centre with that band's settings on both sides; removing one lets its lower
// neighbour (the lowest band: its upper one) take over its range.
TEST(ChainEditor, SplitsAndMergesMultibandBands) {
    ChainModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
    m.setDocument(loadPresetDocument("default")); // splits 120, 1000, 6000 Hz
    const nlohmann::json before = m.document().json["stages"][1];
    ASSERT_TRUE(m.addBand(1));
    // Octaves: 20–120 Hz 2.58, 120–1000 Hz 3.06, 1000–6000 Hz 2.58, 6000–20000 Hz 1.74.
    const nlohmann::json& after = m.document().json["stages"][1];
    EXPECT_EQ(after["splits_hz"], nlohmann::json::parse("[120.0, 346.0, 1000.0, 6000.0]")); // √(120·1000)
    ASSERT_EQ(after["bands"].size(), 5u);
    EXPECT_EQ(after["bands"][1], before["bands"][1]);
    EXPECT_EQ(after["bands"][2], before["bands"][1]);
    EXPECT_EQ(after["bands"][3], before["bands"][2]);
    EXPECT_EQ(std::get<MultibandSpec>(m.preset().stages[1].spec).splitsHz.size(), 4u)
        << "the engine reads 5 bands";

    ASSERT_TRUE(m.removeBand(1, 0)); // the lowest band and the 120 Hz split
    EXPECT_EQ(m.document().json["stages"][1]["splits_hz"], nlohmann::json::parse("[346.0, 1000.0, 6000.0]"));
    EXPECT_EQ(m.document().json["stages"][1]["bands"][0], before["bands"][1]);
    ASSERT_TRUE(m.removeBand(1, 2)); // the 1000–6000 Hz band and the 1000 Hz split
    EXPECT_EQ(m.document().json["stages"][1]["splits_hz"], nlohmann::json::parse("[346.0, 6000.0]"));
    EXPECT_EQ(m.document().json["stages"][1]["bands"][2], before["bands"][3]);
    ASSERT_TRUE(m.removeBand(1, 0));
    EXPECT_FALSE(m.removeBand(1, 0)) << "a multiband needs 2 bands: " << m.lastError().toStdString();
    EXPECT_EQ(m.document().json["stages"][1]["bands"].size(), 2u);

    // A stage that leaves its splits to the engine's default (120, 1000, 6000 Hz) splits from them.
    PresetDocument implicit = loadPresetDocument("default");
    implicit.json["stages"][1].erase("splits_hz");
    m.setDocument(implicit);
    ASSERT_TRUE(m.addBand(1)) << m.lastError().toStdString();
    EXPECT_EQ(m.document().json["stages"][1]["splits_hz"],
              nlohmann::json::parse("[120.0, 346.0, 1000.0, 6000.0]"));
}

// Reverb and multiband stages can be added to any chain, starting from the bundled presets'
// tuned settings (default's 4-band glue, glue-room's room), validated by the engine.
TEST(ChainEditor, AddsAReverbAndAMultibandFromScratch) {
    ChainModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
    m.setDocument(loadPresetDocument("transparent"));
    const std::size_t base = m.preset().stages.size();
    ASSERT_TRUE(m.addStage(QStringLiteral("multiband"))) << m.lastError().toStdString();
    ASSERT_TRUE(m.addStage(QStringLiteral("reverb"))) << m.lastError().toStdString();
    ASSERT_TRUE(m.addStage(QStringLiteral("multiband"))) << "a second one gets its own id";
    const Preset p = m.preset();
    ASSERT_EQ(p.stages.size(), base + 3);
    EXPECT_EQ(p.stages[base].type, "multiband");
    EXPECT_EQ(std::get<MultibandSpec>(p.stages[base].spec).splitsHz,
              (std::vector<double>{120.0, 1000.0, 6000.0}));
    EXPECT_EQ(p.stages[base + 1].type, "reverb");
    EXPECT_EQ(std::get<ReverbSpec>(p.stages[base + 1].spec).room, "glue-room");
    EXPECT_NE(p.stages[base].id, p.stages[base + 2].id);
    // The reverb's room is picked from the engine's rooms.
    const QModelIndex room = find(m, {"reverb", "room"}).siblingAtColumn(ChainModel::Value);
    ASSERT_TRUE(room.isValid());
    QStringList rooms;
    for (const QVariant& c : room.data(ChainModel::ChoicesRole).toList()) {
        rooms << c.toMap().value(QStringLiteral("value")).toString();
    }
    EXPECT_TRUE(rooms.contains(QStringLiteral("cathedral"))) << rooms.join(QLatin1Char(' ')).toStdString();
    ASSERT_TRUE(m.setData(room, QStringLiteral("cathedral")));
    EXPECT_EQ(std::get<ReverbSpec>(m.preset().stages[base + 1].spec).room, "cathedral");
}

// The loudness target is picked from the platforms (or typed, or cleared with "none").
TEST(ChainEditor, TheTargetIsPickedFromThePlatforms) {
    ChainModel m;
    m.setDocument(loadPresetDocument("default"));
    const QModelIndex target = find(m, {"Loudness target (LUFS)"}).siblingAtColumn(ChainModel::Value);
    const QVariantList choices = target.data(ChainModel::ChoicesRole).toList();
    // Every platform of the engine's table that has a loudness is offered, with its value.
    std::size_t withTarget = 0;
    for (const Platform& p : builtinPlatforms()) {
        if (!p.targetLufs) {
            continue;
        }
        ++withTarget;
        const bool offered = std::any_of(choices.begin(), choices.end(), [&](const QVariant& c) {
            const QVariantMap map = c.toMap();
            return map.value(QStringLiteral("label")).toString().contains(QString::fromStdString(p.name)) &&
                   map.value(QStringLiteral("value")).toString().toDouble() == *p.targetLufs;
        });
        EXPECT_TRUE(offered) << p.name;
    }
    EXPECT_EQ(static_cast<std::size_t>(choices.size()), withTarget + 1) << "and none";

    // Through the editor a user sees: a combo box; picking Apple Music commits its −16 LUFS.
    QTreeView view;
    view.setModel(&m);
    view.setItemDelegate(new ChoiceDelegate(&view));
    view.resize(600, 400);
    view.show();
    view.openPersistentEditor(target);
    auto* box = qobject_cast<QComboBox*>(view.indexWidget(target));
    ASSERT_NE(box, nullptr);
    EXPECT_EQ(box->currentData().toString(), QStringLiteral("-14")) << "the document's target is selected";
    const int apple = box->findText(QStringLiteral("Apple Music"), Qt::MatchContains);
    ASSERT_GE(apple, 0);
    box->setCurrentIndex(apple);
    Q_EMIT box->activated(apple);
    EXPECT_EQ(m.document().json["target_lufs"].get<double>(), -16.0);
    view.closePersistentEditor(target);

    ASSERT_TRUE(m.setData(target, QStringLiteral("none")));
    EXPECT_FALSE(m.document().json.contains("target_lufs"));
    EXPECT_FALSE(m.preset().targetLufs.has_value());
    EXPECT_EQ(target.data().toString(), QStringLiteral("none"));
    ASSERT_TRUE(m.setData(target, QStringLiteral("-9")));
    EXPECT_EQ(m.preset().targetLufs, -9.0);
}

// The master follows the edited document: a target of −16 LUFS is what the file reaches.
TEST(ChainEditor, TheMasterUsesTheEditedPreset) {
    QTemporaryDir out;
    ChainModel m;
    m.setDocument(loadPresetDocument("default"));
    ASSERT_TRUE(m.setData(find(m, {"Loudness target (LUFS)"}).siblingAtColumn(ChainModel::Value),
                          QStringLiteral("-16")));
    EngineController engine;
    QSignalSpy mastered(&engine, &EngineController::masterFinished);
    QSignalSpy failed(&engine, &EngineController::failed);
    ASSERT_TRUE(engine.master(demoMix(), out.filePath(QStringLiteral("m.wav")), m.document()));
    ASSERT_TRUE(waitFor(mastered, failed))
        << (failed.isEmpty() ? "" : failed.front().front().toString().toStdString());
    const auto& l = engine.masterResult()->analysis.loudness;
    ASSERT_TRUE(l.integratedLufs.has_value());
    EXPECT_NEAR(*l.integratedLufs, -16.0, kTargetToleranceLu);
}

// A session brings back the chain (as edited), the mix and its master; opened files are listed
// as recent, most recent first.
TEST(Studio, ASessionRestoresTheChainTheMixAndTheMaster) {
    QTemporaryDir out;
    QString session = out.filePath(QStringLiteral("work.lathe.json"));
    {
        MainWindow w;
        QSignalSpy analysed(&w.engine(), &EngineController::analysisFinished);
        QSignalSpy mastered(&w.engine(), &EngineController::masterFinished);
        QSignalSpy failed(&w.engine(), &EngineController::failed);
        ASSERT_TRUE(w.chainModel().setValue(nlohmann::json::json_pointer("/target_lufs"), -16.0));
        w.openFile(demoMix());
        ASSERT_TRUE(waitFor(analysed, failed));
        EXPECT_EQ(w.recentFiles().value(0), QFileInfo(demoMix()).absoluteFilePath());
        w.masterTo(out.filePath(QStringLiteral("m.wav")));
        ASSERT_TRUE(waitFor(mastered, failed));
        ASSERT_TRUE(w.saveSessionTo(session));
    }
    MainWindow w;
    QSignalSpy mastered(&w.engine(), &EngineController::masterFinished);
    QSignalSpy failed(&w.engine(), &EngineController::failed);
    ASSERT_TRUE(w.open(session)); // as the command line and a drop open it: the schema says session
    EXPECT_EQ(w.chainModel().document().json["target_lufs"].get<double>(), -16.0);
    ASSERT_TRUE(waitFor(mastered, failed)) << w.lastError().toStdString(); // the mix, then its master
    ASSERT_TRUE(w.engine().input());
    ASSERT_TRUE(w.engine().masterResult());
    EXPECT_NEAR(*w.engine().masterResult()->analysis.loudness.integratedLufs, -16.0, kTargetToleranceLu);
    // Not a session: a clear error, nothing changed.
    const QString junk = out.filePath(QStringLiteral("junk.json"));
    QFile f(junk);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("{\"schema\": \"lathe.preset/1\"}");
    f.close();
    EXPECT_FALSE(w.openSession(junk));
    EXPECT_TRUE(w.lastError().contains(QStringLiteral("not a Lathe session"))) << w.lastError().toStdString();
    EXPECT_EQ(w.chainModel().document().json["target_lufs"].get<double>(), -16.0);
}

// Dropping files on the window: a preset becomes the chain, an audio file is analysed, and a
// file that is neither is an error that changes nothing.
TEST(Studio, OpensWhatIsDropped) {
    QTemporaryDir dir;
    MainWindow w;
    w.resize(1600, 1000);
    w.show();
    // As a desktop delivers it: the drag enters (accepted: the window takes files), then drops.
    auto drop = [&w](const QString& path) {
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(path)});
        const QPoint centre(800, 500);
        QDragEnterEvent enter(centre, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &enter);
        if (!enter.isAccepted()) {
            return false;
        }
        QDropEvent event(centre, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &event);
        return true;
    };

    PresetDocument warm = loadPresetDocument("warm");
    warm.json["target_lufs"] = -16.0;
    const QString presetPath = dir.filePath(QStringLiteral("mine.json"));
    writeFileAtomically(presetPath.toStdString(), warm.json.dump(2));
    ASSERT_TRUE(drop(presetPath));
    EXPECT_EQ(w.chainModel().document().json["target_lufs"].get<double>(), -16.0);
    EXPECT_EQ(w.chainModel().preset().name, "warm");

    QSignalSpy analysed(&w.engine(), &EngineController::analysisFinished);
    QSignalSpy failed(&w.engine(), &EngineController::failed);
    ASSERT_TRUE(drop(demoMix()));
    ASSERT_TRUE(waitFor(analysed, failed)) << w.lastError().toStdString();
    EXPECT_EQ(w.engine().input()->path, demoMix());

    const QString broken = dir.filePath(QStringLiteral("broken.json"));
    writeFileAtomically(broken.toStdString(), "{ not json");
    EXPECT_FALSE(w.open(broken));
    EXPECT_TRUE(w.lastError().contains(broken)) << w.lastError().toStdString();
    EXPECT_EQ(w.chainModel().preset().name, "warm") << "the chain is kept";
}

TEST(Studio, CancelLeavesNothingBehind) {
    QTemporaryDir out;
    EngineController engine;
    QSignalSpy failed(&engine, &EngineController::failed);
    QSignalSpy mastered(&engine, &EngineController::masterFinished);
    const QString master = out.filePath(QStringLiteral("cancelled.wav"));
    const PresetDocument preset = loadPresetDocument("default");
    ASSERT_TRUE(engine.master(demoMix(), master, preset));
    EXPECT_FALSE(engine.master(demoMix(), master, preset)) << "a second job while busy";
    engine.cancel();
    QSignalSpy never(&engine, &EngineController::analysisFinished);
    ASSERT_FALSE(waitFor(mastered, failed)) << "the master finished despite the cancel";
    ASSERT_EQ(failed.size(), 1);
    EXPECT_TRUE(failed.front().front().toString().startsWith(QStringLiteral("Cancelled")));
    EXPECT_TRUE(QDir(out.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::Hidden).isEmpty());
}

TEST(Studio, AnUnreadableFileIsAnErrorNotACrash) {
    QTemporaryDir out;
    QFile junk(out.filePath(QStringLiteral("junk.wav")));
    ASSERT_TRUE(junk.open(QIODevice::WriteOnly));
    junk.write("RIFF not really a wave file");
    junk.close();
    EngineController engine;
    QSignalSpy failed(&engine, &EngineController::failed);
    QSignalSpy analysed(&engine, &EngineController::analysisFinished);
    ASSERT_TRUE(engine.analyze(junk.fileName()));
    EXPECT_FALSE(waitFor(analysed, failed));
    ASSERT_EQ(failed.size(), 1);
    EXPECT_FALSE(failed.front().front().toString().isEmpty());
}

} // namespace
} // namespace lathe::ui

int main(int argc, char** argv) {
    // Offscreen unless told otherwise: no display is needed (and ctest's test discovery runs this).
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    QStandardPaths::setTestModeEnabled(true);
    // Settings (recent files) in a folder of this process's own: ctest runs each test as a process
    // of its own, in parallel, and a shared store let one test's opened file come first in another
    // test's recent list (Studio.ASessionRestores… failed so in a fresh clone's scripts/test).
    const QTemporaryDir settings;
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settings.path());
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("LatheTests"));
    lathe::ui::applyStudioTheme(app);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
