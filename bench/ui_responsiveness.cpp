// SPDX-License-Identifier: GPL-3.0-or-later
// Lathe Studio stays responsive during long work: the GUI thread's event loop is sampled by a
// 10 ms timer while the app analyses and masters a file (default preset), and the gaps between
// ticks are reported (a gap is how long a click would wait). A measurement, not a test.
// Usage: ui_responsiveness FILE [OUTPUT]   (QT_QPA_PLATFORM=offscreen without a display)
#include "app/MainWindow.h"
#include "widgets/Theme.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    QApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: ui_responsiveness FILE [OUTPUT]\n");
        return 2;
    }
    lathe::ui::applyStudioTheme(app);
    lathe::ui::MainWindow w;
    w.resize(1600, 1000);
    w.show();
    QTemporaryDir dir;
    const QString output =
        argc > 2 ? QString::fromLocal8Bit(argv[2]) : dir.filePath(QStringLiteral("master.wav"));
    std::vector<double> gaps;
    QElapsedTimer clock;
    clock.start();
    qint64 last = clock.nsecsElapsed();
    QTimer tick;
    tick.setInterval(10);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        gaps.push_back(static_cast<double>(now - last) / 1e6);
        last = now;
    });
    tick.start();
    QElapsedTimer job;
    double analyseSeconds = 0;
    QObject::connect(&w.engine(), &lathe::ui::EngineController::analysisFinished, [&] {
        analyseSeconds = static_cast<double>(job.elapsed()) / 1000.0;
        job.restart();
        w.masterTo(output);
    });
    QObject::connect(&w.engine(), &lathe::ui::EngineController::masterFinished,
                     [&](const QString&, const QString& s) {
                         std::printf("analyse %.1f s, master + its analysis %.1f s (%s)\n", analyseSeconds,
                                     static_cast<double>(job.elapsed()) / 1000.0, s.toUtf8().constData());
                         app.quit();
                     });
    QObject::connect(&w.engine(), &lathe::ui::EngineController::failed, [&](const QString& m) {
        std::fprintf(stderr, "failed: %s\n", m.toUtf8().constData());
        app.exit(1);
    });
    job.start();
    w.openFile(QString::fromLocal8Bit(argv[1]));
    const int rc = QApplication::exec();
    std::sort(gaps.begin(), gaps.end());
    if (!gaps.empty()) {
        const auto at = [&](double q) {
            return gaps[static_cast<std::size_t>(q * static_cast<double>(gaps.size() - 1))];
        };
        std::printf("GUI event loop during the work: %zu ticks of 10 ms; gap median %.1f ms, p99 %.1f ms, "
                    "max %.1f ms\n",
                    gaps.size(), at(0.5), at(0.99), gaps.back());
    }
    return rc;
}
