// Lathe Studio: the main window — open a mix, see its analysis, master it with a preset, compare.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/ChainModel.h"
#include "models/EngineController.h"
#include "models/FindingsModel.h"
#include "models/PlatformTableModel.h"
#include "models/PlotData.h"
#include "models/TranslationModel.h"

#include <QMainWindow>

class QComboBox;
class QLabel;
class QProgressBar;
class QTabWidget;
class QAction;
class QListView;
class QTableView;
class QStackedWidget;
class QMenu;
class QTreeView;

namespace lathe::ui {

class CorrelationView;
class DynamicsView;
class EqCurveView;
class HistogramView;
class StereoBandsView;
class LoudnessView;
class SpectrogramView;
class SpectrumView;
class TranslationView;
class Player;

class MainWindow final : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    EngineController& engine() { return m_engine; }
    QTabWidget* tabs() const { return m_tabs; }
    LoudnessView* loudnessView() const { return m_loudness; }
    SpectrumView* spectrumView() const { return m_spectrum; }
    /// The spectrum's curve ("M", "S", "L", "R") and smoothing (1/N octave, 0 = none) selectors.
    void setSpectrumOptions(const QString& curve, int smoothing);
    SpectrogramView* spectrogramView() const { return m_spectrogram; }
    CorrelationView* correlationView() const { return m_correlation; }
    DynamicsView* dynamicsView() const { return m_dynamics; }
    EqCurveView* eqView() const { return m_eq; }
    HistogramView* histogramView() const { return m_histogram; }
    StereoBandsView* stereoBandsView() const { return m_stereoBands; }
    const PlatformTableModel& platformModel() const { return m_platforms; }
    const FindingsModel& findingsModel() const { return m_findings; }
    const TranslationModel& translationModel() const { return m_translationModel; }
    ChainModel& chainModel() { return m_chain; }
    TranslationView* translationView() const { return m_translation; }
    Player& player() const { return *m_player; }
    /// The transport's line: what plays at which gain, or why playback is unavailable.
    QString playbackText() const;
    /// Plays the master through speaker model `id` (after a comparison of the master); false when
    /// there is no such render.
    bool playSpeaker(const QString& id);
    /// Loops playback over [begin, end) seconds and marks it on the loudness history; end ≤ begin
    /// clears the loop.
    void setLoopRegion(double beginSeconds, double endSeconds);
    /// Moves the loudness history's playhead to the player's position (a timer calls it while
    /// playing).
    void updatePlayhead();
    /// The last error shown (tests read it; the user sees a message box).
    QString lastError() const { return m_lastError; }

public Q_SLOTS:
    /// Opens what `path` is (drag and drop, the command line): a session (its JSON names the
    /// schema lathe.session/1), a preset (lathe.preset/1: it becomes the chain), else an audio
    /// file to analyse. False with the error shown when it cannot be opened.
    bool open(const QString& path);
    /// Opens and analyses an audio file (menu, recent files).
    void openFile(const QString& path);
    /// Masters the open file into `output` with the selected preset.
    void masterTo(const QString& output);
    /// Writes the HTML report (and the JSON beside it) of the open file and its master.
    bool exportReportTo(const QString& htmlPath);
    /// Starts the speaker comparison of the master (or the mix before there is one).
    void compareSpeakers();
    /// Writes the session: the mix, the master, and the chain as a preset document (the CLI's
    /// schema) — {"schema": "lathe.session/1", "mix", "master", "preset"}.
    bool saveSessionTo(const QString& path);
    /// Restores a session: the chain, then opens the mix (its master is re-measured when it exists).
    bool openSession(const QString& path);
    /// The recently opened files, most recent first (at most 10; kept in the app's settings).
    QStringList recentFiles() const;

protected:
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;
    void closeEvent(QCloseEvent* e) override;

private:
    void buildUi();
    /// A bundled preset by name or a preset file becomes the chain; false (error shown) when the
    /// engine refuses it, the chain unchanged.
    bool loadPreset(const QString& nameOrFile);
    void chooseAndOpen();
    void chooseAndMaster();
    void chooseAndExport();
    void loadPresetFile();
    void savePresetFile();
    /// Loads a bundled preset into the chain editor.
    void selectPreset(const QString& name);
    std::optional<double> targetLufs() const;
    void refresh();
    void showSpectrum();
    void showError(const QString& message);
    void rememberRecent(const QString& path);
    void rebuildRecentMenu();
    /// Points the player at the mix (A) and, once there is one, the master (B).
    void reloadPlayback();

    EngineController m_engine;
    PlatformTableModel m_platforms;
    FindingsModel m_findings;
    TranslationModel m_translationModel;
    ChainModel m_chain;
    QTreeView* m_chainView = nullptr;
    QString m_path;
    QString m_lastError;
    QTabWidget* m_tabs = nullptr;
    LoudnessView* m_loudness = nullptr;
    SpectrumView* m_spectrum = nullptr;
    SpectrogramView* m_spectrogram = nullptr;
    CorrelationView* m_correlation = nullptr;
    DynamicsView* m_dynamics = nullptr;
    EqCurveView* m_eq = nullptr;
    HistogramView* m_histogram = nullptr;
    StereoBandsView* m_stereoBands = nullptr;
    TranslationView* m_translation = nullptr;
    QTableView* m_translationTable = nullptr;
    QLabel* m_translationNote = nullptr;
    QAction* m_compareAction = nullptr;
    QTableView* m_platformTable = nullptr;
    QListView* m_findingsList = nullptr;
    QStackedWidget* m_readiness = nullptr; ///< the list, or a sentence when there is nothing to report
    QLabel* m_noFindings = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_backend = nullptr;
    QLabel* m_status = nullptr;
    QProgressBar* m_progress = nullptr;
    QComboBox* m_preset = nullptr;
    QAction* m_masterAction = nullptr;
    QAction* m_cancelAction = nullptr;
    QAction* m_exportAction = nullptr;
    QMenu* m_recentMenu = nullptr;
    QString m_pendingMaster;             ///< a session's master, measured once its mix is analysed
    std::optional<double> m_shownTarget; ///< the target line the loudness history shows
    /// Labels on a 60 LU axis ~550 px high are ~9 px per LU: markers 2 LU apart keep their
    /// labels (one text line) from overlapping.
    static constexpr double kMarkerSpacingLu = 2.0;
    const std::vector<LevelMarker> m_platformMarkers = platformMarkers(builtinPlatforms(), kMarkerSpacingLu);
    Player* m_player = nullptr;
    QAction* m_playAction = nullptr;
    QAction* m_aAction = nullptr;
    QAction* m_bAction = nullptr;
    QAction* m_cAction = nullptr;
    QComboBox* m_speakerBox = nullptr;
    class QTimer* m_playheadTimer = nullptr;
    QComboBox* m_spectrumCurve = nullptr;     ///< mid, side, left, right
    QComboBox* m_spectrumSmoothing = nullptr; ///< 1/N octave
    QLabel* m_playback = nullptr;
    QString m_playbackMix; ///< the mix the player was last loaded with (a new mix starts at 0)
};

} // namespace lathe::ui
