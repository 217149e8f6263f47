// SPDX-License-Identifier: GPL-3.0-or-later
#include "EngineController.h"

#include <lathe/Error.h>
#include <lathe/Master.h>
#include <lathe/Preset.h>
#include <lathe/Speakers.h>
#include <lathe/gpu/Gpu.h>

#include <QMetaObject>
#include <algorithm>
#include <chrono>

namespace lathe::ui {
namespace {

/// Progress reaches the GUI at most this often (a render calls back after every block).
constexpr double kProgressIntervalSeconds = 0.1;

} // namespace

EngineController::EngineController(QObject* parent) : QObject(parent) {
    gpu::registerCudaBackend(m_registry);
}

EngineController::~EngineController() {
    m_cancel->cancel();
    if (m_worker.joinable()) {
        m_worker.join();
    }
}

QString EngineController::backendDescription() const {
    const std::vector<BackendStatus> all = m_registry.availableBackends(); // most preferred first
    QString why;
    for (const BackendStatus& s : all) {
        if (s.available) {
            const QString d = QString::fromStdString(s.description);
            return why.isEmpty() ? d : QStringLiteral("CPU — %1").arg(why);
        }
        why = QString::fromStdString(s.reason); // a preferred backend that cannot run here
    }
    return QStringLiteral("no backend");
}

void EngineController::start(std::function<std::function<void()>(const JobControl&)> job) {
    if (m_worker.joinable()) {
        m_worker.join(); // the previous job has finished (busy was false)
    }
    m_busy = true;
    Q_EMIT busyChanged(true);
    m_cancel = std::make_unique<CancelToken>(); // a fresh token per job
    m_worker = std::thread([this, job = std::move(job)] {
        using Clock = std::chrono::steady_clock;
        auto last = Clock::now() - std::chrono::seconds(1);
        JobControl control;
        control.cancel = m_cancel.get();
        control.progress = [this, &last](const Progress& p) {
            const auto now = Clock::now();
            if (std::chrono::duration<double>(now - last).count() < kProgressIntervalSeconds) {
                return;
            }
            last = now;
            const double f = p.fraction();
            const double left = f > 0.01 ? p.elapsedSeconds * (1.0 - f) / f : -1.0;
            const QString phase = QString::fromLatin1(p.phase.data(), static_cast<qsizetype>(p.phase.size()));
            QMetaObject::invokeMethod(
                this, [this, phase, f, left] { Q_EMIT progress(phase, f, left); }, Qt::QueuedConnection);
        };
        QString error;
        std::function<void()> deliver;
        try {
            deliver = job(control);
        } catch (const CancelledError&) {
            error = QStringLiteral("Cancelled; nothing was written.");
        } catch (const Error& e) {
            error = QString::fromStdString(e.what());
        } catch (const std::bad_alloc&) {
            error = QStringLiteral("Out of memory.");
        } catch (const std::exception& e) {
            error = QStringLiteral("Internal error: %1").arg(QString::fromStdString(e.what()));
        }
        QMetaObject::invokeMethod(
            this,
            [this, error, deliver] {
                // Not busy before the result is announced: a slot may start the next job.
                m_busy = false;
                Q_EMIT busyChanged(false);
                if (!error.isEmpty()) {
                    Q_EMIT failed(error);
                } else if (deliver) {
                    deliver();
                }
            },
            Qt::QueuedConnection);
    });
}

std::shared_ptr<AnalysisSnapshot> EngineController::analyzeNow(const QString& path,
                                                               const JobControl& control) {
    auto snap = std::make_shared<AnalysisSnapshot>();
    snap->path = path;
    auto sel = m_registry.select("auto", Capability::Loudness);
    snap->backend = QString::fromStdString(sel.reason);
    AnalysisOptions options;
    snap->analysis = analyzeFile(path.toStdString(), options, *sel.backend, control);
    snap->platforms = previewPlatforms(snap->analysis.loudness, builtinPlatforms());
    return snap;
}

bool EngineController::analyze(const QString& path) {
    if (m_busy) {
        return false;
    }
    start([this, path](const JobControl& control) {
        std::shared_ptr<const AnalysisSnapshot> snap = analyzeNow(path, control);
        return [this, snap, path] {
            m_input = snap;
            m_master.reset();
            m_translation.reset();
            Q_EMIT analysisFinished(path);
        };
    });
    return true;
}

bool EngineController::master(const QString& input, const QString& output, const PresetDocument& preset) {
    if (m_busy) {
        return false;
    }
    start([this, input, output, preset](const JobControl& control) {
        MasterSettings settings;
        settings.preset = parsePreset(preset);
        settings.target = presetTarget(settings.preset);
        auto sel = m_registry.select("auto", Capability::Convolution);
        TargetingReport targeting;
        // The master's analysis as it is written (where the threads allow; else read back after).
        MasterAnalyses analyses;
        analyses.withInput = false; // the input's is on screen already
        // A GPU failure mid-render reruns the job on the CPU, as the CLI's --backend auto does.
        const RenderReport report = runWithCpuRerun(sel, true, [&](Backend& b) {
            targeting = {};
            return masterFile(input.toStdString(), output.toStdString(), settings, b, control, &targeting,
                              &analyses);
        });
        auto measured = std::make_shared<AnalysisSnapshot>();
        measured->path = output;
        measured->analysis = std::move(analyses.after);
        measured->platforms = previewPlatforms(measured->analysis.loudness, builtinPlatforms());
        measured->gainReduction = gainReductionSeries(report);
        measured->backend = QString::fromStdString(sel.reason);
        std::shared_ptr<const AnalysisSnapshot> snap = measured;
        QString summary =
            QStringLiteral("Mastered with '%1' on %2 in %3 s (%4× real time)")
                .arg(QString::fromStdString(settings.preset.name), QString::fromStdString(report.backend))
                .arg(report.seconds, 0, 'f', 1)
                .arg(snap->analysis.loudness.durationSeconds / std::max(report.seconds, 1e-9), 0, 'f', 0);
        if (sel.reason.find("rerun on cpu") != std::string::npos) {
            summary += QStringLiteral(" — %1").arg(QString::fromStdString(sel.reason));
        }
        return [this, snap, output, summary] {
            m_master = snap;
            m_translation.reset();
            Q_EMIT masterFinished(output, summary);
        };
    });
    return true;
}

bool EngineController::measureMaster(const QString& path) {
    if (m_busy || !m_input) {
        return false;
    }
    start([this, path](const JobControl& control) {
        std::shared_ptr<const AnalysisSnapshot> snap = analyzeNow(path, control);
        return [this, snap, path] {
            m_master = snap;
            m_translation.reset();
            Q_EMIT masterFinished(path, QStringLiteral("Measured the master %1").arg(path));
        };
    });
    return true;
}

bool EngineController::compareSpeakers() {
    const auto source = m_master ? m_master : m_input;
    if (m_busy || !source) {
        return false;
    }
    const QString path = source->path;
    const QString which = m_master ? QStringLiteral("master") : QStringLiteral("mix");
    m_translation.reset();
    m_renders = std::make_unique<QTemporaryDir>(); // the previous renders go (no job uses them now)
    const std::filesystem::path renders =
        m_renders->isValid() ? m_renders->path().toStdString() : std::string();
    start([this, path, which, renders](const JobControl& control) {
        auto snap = std::make_shared<TranslationSnapshot>();
        snap->path = path;
        snap->which = which;
        TranslationOptions options;
        options.models = selectSpeakers("all");
        if (!renders.empty()) {
            options.renderDir = renders;
        }
        auto sel = m_registry.select("auto", Capability::Convolution);
        snap->result = runWithCpuRerun(sel, true, [&](Backend& b) {
            return measureTranslation(path.toStdString(), options, b, control);
        });
        std::shared_ptr<const TranslationSnapshot> done = snap;
        return [this, done] {
            m_translation = done;
            Q_EMIT translationFinished();
        };
    });
    return true;
}

void EngineController::cancel() {
    m_cancel->cancel();
}

} // namespace lathe::ui
