// Lathe Studio: runs engine jobs (analysis, master) on a worker thread and turns the engine's
// progress callbacks into Qt signals on the GUI thread. Results are immutable snapshots the views
// read after `analysisFinished` / `masterFinished`.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Analysis.h>
#include <lathe/Backend.h>
#include <lathe/HtmlReport.h>
#include <lathe/Platforms.h>
#include <lathe/Preset.h>
#include <lathe/Progress.h>
#include <lathe/Translation.h>

#include <QObject>
#include <QString>
#include <QTemporaryDir>
#include <atomic>
#include <functional>
#include <memory>
#include <thread>

namespace lathe::ui {

/// One analysed file: the engine's result and what each platform would do to it.
struct AnalysisSnapshot {
    QString path;
    AnalysisResult analysis;
    std::vector<PlatformPreview> platforms;
    QString backend; ///< the backend that measured, and why
    /// A master's dynamics over time (per multiband band and the limiter); empty for a mix.
    std::vector<GainReductionSeries> gainReduction;
};

/// How one file translates across the built-in speaker models.
struct TranslationSnapshot {
    QString path;
    QString which; ///< "mix" or "master"
    TranslationResult result;
};

class EngineController final : public QObject {
    Q_OBJECT
public:
    explicit EngineController(QObject* parent = nullptr);
    /// Cancels a running job and waits for it (nothing partial is left: the engine writes outputs
    /// to a temporary file and renames it only when complete).
    ~EngineController() override;

    /// "CUDA: NVIDIA H200 (sm_90)", or "CPU — no CUDA device: <the probe's reason>".
    QString backendDescription() const;
    bool busy() const { return m_busy.load(); }

    /// Starts analysing `path`; false (and nothing starts) while another job runs.
    bool analyze(const QString& path);
    /// Masters `input` to `output` with a preset document (the chain editor's, or a bundled
    /// preset's), its own loudness target included, then analyses the master. False while
    /// another job runs.
    bool master(const QString& input, const QString& output, const PresetDocument& preset);
    /// Measures an existing master file (a restored session's) as the master of the open mix.
    bool measureMaster(const QString& path);
    /// Renders the master (or, before there is one, the mix) through every built-in speaker model
    /// and measures the translation; each model's level-matched render is kept (in a temporary
    /// folder, until the next comparison) for listening. False while another job runs or before a
    /// file is open.
    bool compareSpeakers();
    /// Asks the running job to stop; `failed` follows with "cancelled".
    void cancel();

    /// The last analysed input and the last master's analysis (null until there is one).
    std::shared_ptr<const AnalysisSnapshot> input() const { return m_input; }
    std::shared_ptr<const AnalysisSnapshot> masterResult() const { return m_master; }
    std::shared_ptr<const TranslationSnapshot> translation() const { return m_translation; }

Q_SIGNALS:
    void busyChanged(bool busy);
    /// `fraction` in [0, 1]; `secondsLeft` < 0 while unknown.
    void progress(const QString& phase, double fraction, double secondsLeft);
    void analysisFinished(const QString& path);
    void masterFinished(const QString& output, const QString& summary);
    void translationFinished();
    void failed(const QString& message);

private:
    /// Runs `job` on the worker thread; what it returns runs on the GUI thread when it succeeded.
    void start(std::function<std::function<void()>(const JobControl&)> job);
    std::shared_ptr<AnalysisSnapshot> analyzeNow(const QString& path, const JobControl& control);

    BackendRegistry m_registry;
    std::thread m_worker;
    std::unique_ptr<CancelToken> m_cancel = std::make_unique<CancelToken>();
    std::atomic<bool> m_busy{false};
    std::shared_ptr<const AnalysisSnapshot> m_input;
    std::shared_ptr<const AnalysisSnapshot> m_master;
    std::shared_ptr<const TranslationSnapshot> m_translation;
    std::unique_ptr<QTemporaryDir> m_renders; ///< the speaker renders of the last comparison
};

} // namespace lathe::ui
