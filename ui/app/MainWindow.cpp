// SPDX-License-Identifier: GPL-3.0-or-later
#include "MainWindow.h"

#include "models/PlotData.h"
#include "models/ReportExport.h"
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
#include "widgets/TranslationView.h"

#include <lathe/Error.h>
#include <lathe/FileOutput.h>
#include <lathe/Preset.h>

#include <QActionGroup>
#include <QCloseEvent>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>

namespace lathe::ui {
namespace {

/// A JSON file's content; InputError when it cannot be read, nlohmann's parse_error when it is
/// not JSON.
nlohmann::json readJsonFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        throw InputError(path.toStdString(), "cannot be read");
    }
    return nlohmann::json::parse(f.readAll().toStdString());
}

/// A read-only table of one row per item (platforms, speaker models): the last column (the
/// sentence) takes the spare width.
QTableView* metricsTable(QAbstractItemModel* model) {
    auto* t = new QTableView;
    t->setModel(model);
    t->horizontalHeader()->setStretchLastSection(true);
    t->verticalHeader()->hide();
    t->setAlternatingRowColors(true);
    t->setWordWrap(false);
    return t;
}

/// Two views one above the other, sharing the height top : bottom.
QSplitter* stacked(QWidget* top, QWidget* bottom, int topShare, int bottomShare) {
    auto* page = new QSplitter(Qt::Vertical);
    page->addWidget(top);
    page->addWidget(bottom);
    page->setStretchFactor(0, topShare);
    page->setStretchFactor(1, bottomShare);
    return page;
}

} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(QStringLiteral("Lathe Studio"));
    setAcceptDrops(true);
    buildUi();
    connect(&m_engine, &EngineController::busyChanged, this, [this](bool busy) {
        // Mastering needs an analysed mix (a file that failed to open is not one).
        m_masterAction->setEnabled(!busy && m_engine.input() != nullptr);
        m_cancelAction->setEnabled(busy);
        m_progress->setVisible(busy);
        if (!busy) {
            m_progress->setValue(0);
        }
    });
    connect(&m_engine, &EngineController::progress, this,
            [this](const QString& phase, double f, double left) {
                m_progress->setValue(static_cast<int>(f * 1000));
                m_status->setText(left >= 0 ? QStringLiteral("%1 — %2 left").arg(phase, formatTime(left))
                                            : phase);
            });
    connect(&m_engine, &EngineController::analysisFinished, this, [this](const QString& path) {
        m_status->setText(QStringLiteral("Analysed %1").arg(QFileInfo(path).fileName()));
        if (!m_pendingMaster.isEmpty()) {
            const QString master = m_pendingMaster;
            m_pendingMaster.clear();
            m_engine.measureMaster(master);
        }
        refresh();
        reloadPlayback();
    });
    connect(&m_engine, &EngineController::masterFinished, this,
            [this](const QString&, const QString& summary) {
                m_status->setText(summary);
                refresh();
                reloadPlayback();
            });
    connect(&m_engine, &EngineController::failed, this, &MainWindow::showError);
    connect(m_loudness, &LoudnessView::regionSelected, this, &MainWindow::setLoopRegion);
    connect(m_loudness, &LoudnessView::positionClicked, this, [this](double seconds) {
        setLoopRegion(0, 0);
        if (PlaybackSource* src = m_player->source()) {
            src->seekFrame(static_cast<Frames>(seconds * src->sampleRate()));
            m_status->setText(QStringLiteral("Playback from %1").arg(formatTime(seconds)));
        }
    });
    // A finding with a time range: loop it on the loudness history.
    connect(m_findingsList, &QListView::clicked, this, [this](const QModelIndex& i) {
        const QVariant a = i.data(FindingsModel::FirstRangeStartRole);
        const QVariant b = i.data(FindingsModel::FirstRangeEndRole);
        if (a.isValid() && b.isValid()) {
            setLoopRegion(a.toDouble(), std::max(b.toDouble(), a.toDouble() + 1.0));
            m_tabs->setCurrentIndex(0);
        }
    });
    connect(&m_engine, &EngineController::translationFinished, this, [this] {
        const auto t = m_engine.translation();
        m_translation->show(t->result, t->which);
        m_translationModel.setResult(&t->result);
        m_translationTable->resizeColumnsToContents();
        m_translationNote->setText(
            QStringLiteral("%1 speaker models, level-matched to the monitors, in %2 s on %3.")
                .arg(t->result.models.size())
                .arg(t->result.seconds, 0, 'f', 1)
                .arg(QString::fromStdString(t->result.backend)));
        m_status->setText(QStringLiteral("Compared the %1 on %2 speaker models")
                              .arg(t->which)
                              .arg(t->result.models.size()));
        m_speakerBox->clear();
        if (t->which == QLatin1String("master")) {
            for (const SpeakerMetrics& m : t->result.models) {
                if (m.render) {
                    m_speakerBox->addItem(QString::fromStdString(m.name), QString::fromStdString(m.id));
                }
            }
        }
        m_speakerBox->setEnabled(m_speakerBox->count() > 0);
        m_cAction->setEnabled(m_player->available() && m_speakerBox->count() > 0);
    });
}

void MainWindow::buildUi() {
    auto* file = menuBar()->addMenu(QStringLiteral("&File"));
    auto* open = file->addAction(QStringLiteral("&Open…"), this, &MainWindow::chooseAndOpen);
    open->setShortcut(QKeySequence::Open);
    m_masterAction = file->addAction(QStringLiteral("&Master…"), this, &MainWindow::chooseAndMaster);
    m_masterAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    m_masterAction->setEnabled(false);
    m_cancelAction = file->addAction(QStringLiteral("&Cancel"), &m_engine, &EngineController::cancel);
    m_cancelAction->setShortcut(QKeySequence(Qt::Key_Escape));
    m_cancelAction->setEnabled(false);
    m_recentMenu = file->addMenu(QStringLiteral("Open &recent"));
    rebuildRecentMenu();
    file->addAction(QStringLiteral("Open &session…"), this, [this] {
        const QString path =
            QFileDialog::getOpenFileName(this, QStringLiteral("Open a session"), QString(),
                                         QStringLiteral("Lathe session (*.lathe.json *.json)"));
        if (!path.isEmpty()) {
            openSession(path);
        }
    });
    file->addAction(QStringLiteral("Save session…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Save the session"), QString(),
                                                          QStringLiteral("Lathe session (*.lathe.json)"));
        if (!path.isEmpty()) {
            saveSessionTo(path);
        }
    });
    file->addSeparator();
    m_exportAction = file->addAction(QStringLiteral("&Export report…"), this, &MainWindow::chooseAndExport);
    m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_exportAction->setEnabled(false);
    file->addSeparator();
    file->addAction(QStringLiteral("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    auto* bar = addToolBar(QStringLiteral("Main"));
    bar->setMovable(false);
    bar->addAction(open);
    bar->addSeparator();
    bar->addWidget(new QLabel(QStringLiteral(" Preset ")));
    m_preset = new QComboBox;
    for (const PresetInfo& p : bundledPresets()) {
        m_preset->addItem(QString::fromStdString(p.name));
        m_preset->setItemData(m_preset->count() - 1, QString::fromStdString(p.description), Qt::ToolTipRole);
    }
    m_preset->setCurrentText(QStringLiteral("default"));
    connect(m_preset, &QComboBox::currentTextChanged, this, &MainWindow::selectPreset);
    bar->addWidget(m_preset);
    bar->addAction(m_masterAction);
    bar->addAction(m_cancelAction);

    // Transport: play the mix (A) or the master (B), level-matched, switching at the same position.
    m_player = new Player(this);
    auto* transport = addToolBar(QStringLiteral("Transport"));
    transport->setMovable(false);
    m_playAction = transport->addAction(QStringLiteral("Play"));
    m_playAction->setShortcut(QKeySequence(Qt::Key_Space));
    m_playheadTimer = new QTimer(this);
    m_playheadTimer->setInterval(100);
    connect(m_playheadTimer, &QTimer::timeout, this, &MainWindow::updatePlayhead);
    connect(m_playAction, &QAction::triggered, this, [this] {
        if (m_player->playing()) {
            m_player->pause();
            m_playheadTimer->stop();
            m_playAction->setText(QStringLiteral("Play"));
        } else {
            m_player->play();
            m_playheadTimer->start();
            m_playAction->setText(QStringLiteral("Pause"));
        }
        updatePlayhead();
    });
    auto* ab = new QActionGroup(this);
    m_aAction = transport->addAction(QStringLiteral("A: mix"));
    m_bAction = transport->addAction(QStringLiteral("B: master"));
    m_cAction = transport->addAction(QStringLiteral("C: on"));
    m_cAction->setToolTip(QStringLiteral("The master through a speaker model (compare speakers first)"));
    m_speakerBox = new QComboBox;
    m_speakerBox->setEnabled(false);
    m_speakerBox->setMinimumWidth(160);
    transport->addWidget(m_speakerBox);
    for (QAction* a : {m_aAction, m_bAction, m_cAction}) {
        a->setCheckable(true);
        ab->addAction(a);
    }
    m_aAction->setChecked(true);
    m_aAction->setShortcut(QKeySequence(Qt::Key_A));
    m_bAction->setShortcut(QKeySequence(Qt::Key_B));
    m_cAction->setShortcut(QKeySequence(Qt::Key_C));
    m_cAction->setEnabled(false);
    connect(m_cAction, &QAction::triggered, this,
            [this] { playSpeaker(m_speakerBox->currentData().toString()); });
    connect(m_speakerBox, &QComboBox::activated, this, [this] {
        m_cAction->setChecked(true);
        playSpeaker(m_speakerBox->currentData().toString());
    });
    connect(m_aAction, &QAction::triggered, this, [this] {
        if (m_player->source() != nullptr) {
            m_player->source()->select(PlaybackSource::Which::Mix);
        }
        m_playback->setText(playbackText());
    });
    connect(m_bAction, &QAction::triggered, this, [this] {
        if (m_player->source() != nullptr) {
            m_player->source()->select(PlaybackSource::Which::Master);
        }
        m_playback->setText(playbackText());
    });
    m_playback = new QLabel;
    m_playback->setContentsMargins(8, 0, 8, 0);
    transport->addWidget(m_playback);
    for (QAction* a : {m_playAction, m_aAction, m_bAction}) {
        a->setEnabled(false);
    }
    m_playback->setText(playbackText());

    m_summary = new QLabel(QStringLiteral("Open a mix (File ▸ Open, or drop a file here)."));
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_summary->setMinimumWidth(360);
    m_summary->setMargin(12);
    m_summary->setWordWrap(true);

    m_tabs = new QTabWidget;
    m_loudness = new LoudnessView;
    m_spectrum = new SpectrumView;
    m_platformTable = metricsTable(&m_platforms);
    m_findingsList = new QListView;
    m_findingsList->setModel(&m_findings);
    m_findingsList->setWordWrap(true);
    m_findingsList->setSpacing(4);
    m_histogram = new HistogramView;
    m_tabs->addTab(stacked(m_loudness, m_histogram, 3, 1), QStringLiteral("Loudness"));
    {
        auto* page = new QWidget;
        auto* layout = new QVBoxLayout(page);
        auto* row = new QHBoxLayout;
        m_spectrumCurve = new QComboBox;
        for (const auto& [label, id] : {std::pair{"Mid", "M"}, std::pair{"Side", "S"}, std::pair{"Left", "L"},
                                        std::pair{"Right", "R"}}) {
            m_spectrumCurve->addItem(QString::fromLatin1(label), QString::fromLatin1(id));
        }
        m_spectrumSmoothing = new QComboBox;
        for (int n : {1, 3, 6, 12, 24, 0}) {
            m_spectrumSmoothing->addItem(
                n > 0 ? QStringLiteral("1/%1 octave").arg(n) : QStringLiteral("none"), n);
        }
        m_spectrumSmoothing->setCurrentIndex(2);
        row->addWidget(new QLabel(QStringLiteral("Curve")));
        row->addWidget(m_spectrumCurve);
        row->addSpacing(16);
        row->addWidget(new QLabel(QStringLiteral("Smoothing")));
        row->addWidget(m_spectrumSmoothing);
        row->addStretch(1);
        layout->addLayout(row);
        layout->addWidget(m_spectrum, 1);
        connect(m_spectrumCurve, &QComboBox::currentIndexChanged, this, &MainWindow::showSpectrum);
        connect(m_spectrumSmoothing, &QComboBox::currentIndexChanged, this, &MainWindow::showSpectrum);
        m_tabs->addTab(page, QStringLiteral("Spectrum"));
    }
    m_spectrogram = new SpectrogramView;
    m_tabs->addTab(m_spectrogram, QStringLiteral("Spectrogram"));
    m_correlation = new CorrelationView;
    m_stereoBands = new StereoBandsView;
    m_tabs->addTab(stacked(m_correlation, m_stereoBands, 3, 2), QStringLiteral("Stereo"));
    m_dynamics = new DynamicsView;
    m_tabs->addTab(m_dynamics, QStringLiteral("Dynamics"));
    m_eq = new EqCurveView(m_chain);
    m_tabs->addTab(m_eq, QStringLiteral("EQ"));
    {
        auto* page = new QWidget;
        auto* layout = new QVBoxLayout(page);
        auto* row = new QHBoxLayout;
        auto* button = new QPushButton(QStringLiteral("Compare speakers"));
        button->setToolTip(
            QStringLiteral("Render the master (or the mix) through every speaker model: phone, laptop, "
                           "earbuds, headphones, TV, Bluetooth speaker, car, club PA"));
        connect(button, &QPushButton::clicked, this, &MainWindow::compareSpeakers);
        m_translationNote =
            new QLabel(QStringLiteral("How the master holds up on phones, laptops, earbuds, cars "
                                      "and club systems: press Compare speakers."));
        row->addWidget(button);
        row->addWidget(m_translationNote, 1);
        layout->addLayout(row);
        m_translation = new TranslationView;
        m_translationTable = metricsTable(&m_translationModel);
        layout->addWidget(stacked(m_translation, m_translationTable, 3, 2), 1);
        m_tabs->addTab(page, QStringLiteral("Translation"));
    }
    m_tabs->addTab(m_platformTable, QStringLiteral("Platforms"));
    m_noFindings = new QLabel;
    m_noFindings->setAlignment(Qt::AlignCenter);
    m_noFindings->setWordWrap(true);
    m_noFindings->setAutoFillBackground(true);
    m_noFindings->setBackgroundRole(QPalette::Base);
    m_readiness = new QStackedWidget;
    m_readiness->addWidget(m_findingsList);
    m_readiness->addWidget(m_noFindings);
    m_tabs->addTab(m_readiness, QStringLiteral("Readiness"));

    // The chain editor: the preset as a tree (stages with bypass boxes, parameters, bands).
    m_chainView = new QTreeView;
    m_chainView->setModel(&m_chain);
    m_chainView->setItemDelegate(new ChoiceDelegate(m_chainView)); // the target's platforms, rooms
    m_chainView->setAlternatingRowColors(true);
    m_chainView->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                                 QAbstractItemView::SelectedClicked);
    connect(&m_chain, &ChainModel::editRejected, this, &MainWindow::showError);
    m_chainView->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_chainView, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        const auto [stage, band] = m_chain.stageAndBand(m_chainView->indexAt(at));
        QMenu menu;
        if (stage >= 0) {
            const std::string type = m_chain.document().json["stages"][static_cast<std::size_t>(stage)].value(
                "type", std::string());
            if (type == "eq" || type == "multiband") {
                menu.addAction(type == "eq" ? QStringLiteral("Add an EQ band")
                                            : QStringLiteral("Split the widest band"),
                               this, [this, stage] { m_chain.addBand(stage); });
            }
            if (band >= 0) {
                menu.addAction(QStringLiteral("Remove band %1").arg(band + 1), this,
                               [this, stage, band] { m_chain.removeBand(stage, band); });
            }
            menu.addAction(QStringLiteral("Remove this stage"), this,
                           [this, stage] { m_chain.removeStage(stage); });
            menu.addSeparator();
        }
        for (const auto& [label, type] :
             {std::pair{"Add an EQ stage", "eq"}, std::pair{"Add a multiband compressor", "multiband"},
              std::pair{"Add a reverb", "reverb"}, std::pair{"Add a limiter", "limiter"}}) {
            menu.addAction(QString::fromLatin1(label), this,
                           [this, type = QString::fromLatin1(type)] { m_chain.addStage(type); });
        }
        menu.exec(m_chainView->viewport()->mapToGlobal(at));
        m_chainView->expandToDepth(0);
    });
    connect(&m_chain, &ChainModel::documentChanged, this, [this] {
        // Only the target line depends on the chain: redraw when it moved (an EQ drag changes
        // the document at every mouse move).
        const std::optional<double> target = targetLufs();
        if (m_engine.input() && target != m_shownTarget) {
            m_loudness->show(m_engine.input()->analysis.loudness,
                             m_engine.masterResult() ? &m_engine.masterResult()->analysis.loudness : nullptr,
                             target, m_platformMarkers);
            m_shownTarget = target;
        }
    });
    auto* chainButtons = new QHBoxLayout;
    auto* load = new QPushButton(QStringLiteral("Load preset…"));
    auto* save = new QPushButton(QStringLiteral("Save preset…"));
    connect(load, &QPushButton::clicked, this, &MainWindow::loadPresetFile);
    connect(save, &QPushButton::clicked, this, &MainWindow::savePresetFile);
    chainButtons->addWidget(load);
    chainButtons->addWidget(save);
    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    auto* chainBox = new QWidget;
    auto* chainLayout = new QVBoxLayout(chainBox);
    chainLayout->setContentsMargins(6, 0, 6, 6);
    chainLayout->addWidget(m_chainView, 1);
    chainLayout->addLayout(chainButtons);
    QSplitter* leftSplit = stacked(m_summary, chainBox, 2, 3);
    leftLayout->addWidget(leftSplit);
    selectPreset(m_preset->currentText());

    auto* split = new QSplitter;
    split->addWidget(left);
    split->addWidget(m_tabs);
    split->setStretchFactor(1, 1);
    // The chain editor's band lines ("−26 dB · 1.4:1 · 30/300 ms · knee 10 dB") need ~480 px to be read
    // whole; the plots keep the rest (1120 px of a 1600 px window).
    split->setSizes({480, 1120});
    setCentralWidget(split);

    m_backend = new QLabel(QStringLiteral("Backend: %1").arg(m_engine.backendDescription()));
    m_status = new QLabel;
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1000);
    m_progress->setMaximumWidth(260);
    m_progress->setVisible(false);
    statusBar()->addWidget(m_status, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_backend);
}

void MainWindow::showSpectrum() {
    const auto in = m_engine.input();
    if (!in) {
        return;
    }
    const auto out = m_engine.masterResult();
    m_spectrum->show(in->analysis.spectrum, out ? &out->analysis.spectrum : nullptr,
                     m_spectrumCurve->currentData().toString(), m_spectrumSmoothing->currentData().toInt());
}

void MainWindow::setSpectrumOptions(const QString& curve, int smoothing) {
    m_spectrumCurve->setCurrentIndex(std::max(0, m_spectrumCurve->findData(curve)));
    m_spectrumSmoothing->setCurrentIndex(std::max(0, m_spectrumSmoothing->findData(smoothing)));
    showSpectrum();
}

void MainWindow::updatePlayhead() {
    const PlaybackSource* src = m_player->source();
    m_loudness->setPlayhead(src != nullptr ? static_cast<double>(src->position()) / src->sampleRate() : -1.0);
}

void MainWindow::setLoopRegion(double beginSeconds, double endSeconds) {
    m_loudness->setRegion(beginSeconds, endSeconds);
    PlaybackSource* src = m_player->source();
    if (src == nullptr) {
        return;
    }
    const double fs = src->sampleRate();
    src->setLoop(static_cast<Frames>(beginSeconds * fs), static_cast<Frames>(endSeconds * fs));
    if (endSeconds > beginSeconds) {
        src->seekFrame(static_cast<Frames>(beginSeconds * fs));
        m_status->setText(QStringLiteral("Looping %1 – %2 (click the loudness history to play from a point)")
                              .arg(formatTime(beginSeconds), formatTime(endSeconds)));
    }
}

bool MainWindow::playSpeaker(const QString& id) {
    const auto t = m_engine.translation();
    PlaybackSource* src = m_player->source();
    if (!t || t->which != QLatin1String("master") || src == nullptr) {
        return false;
    }
    for (const SpeakerMetrics& m : t->result.models) {
        if (QString::fromStdString(m.id) == id && m.render) {
            try {
                src->setSpeaker(QString::fromStdString(m.render->string()), QString::fromStdString(m.name));
            } catch (const std::exception& e) {
                showError(QString::fromStdString(e.what()));
                return false;
            }
            src->select(PlaybackSource::Which::Speaker);
            m_cAction->setChecked(true);
            m_speakerBox->setCurrentIndex(m_speakerBox->findData(id));
            m_playback->setText(playbackText());
            return true;
        }
    }
    return false;
}

QString MainWindow::playbackText() const {
    if (!m_player->available()) {
        return QStringLiteral("Playback unavailable: %1").arg(m_player->unavailableReason());
    }
    const PlaybackSource* src = m_player->source();
    if (src == nullptr) {
        return QStringLiteral("Open a mix to listen");
    }
    if (!src->hasMaster()) {
        return QStringLiteral("Playing the mix as it is");
    }
    const PlaybackSource::Which w = src->selected();
    const QString now = w == PlaybackSource::Which::Master ? QStringLiteral("master")
                        : w == PlaybackSource::Which::Speaker
                            ? QStringLiteral("master on %1").arg(src->speakerName())
                            : QStringLiteral("mix");
    return QStringLiteral("Level-matched (louder never wins): mix %1 dB, master %2 dB — now: %3")
        .arg(src->gainDb(PlaybackSource::Which::Mix), 0, 'f', 1)
        .arg(src->gainDb(PlaybackSource::Which::Master), 0, 'f', 1)
        .arg(now);
}

void MainWindow::reloadPlayback() {
    const auto in = m_engine.input();
    if (!in) {
        return;
    }
    const auto out = m_engine.masterResult();
    const Frames at =
        m_player->source() != nullptr && m_playbackMix == in->path ? m_player->source()->position() : 0;
    m_playbackMix = in->path;
    QString refused; // why this file cannot play on the device there is
    try {
        auto src = std::make_unique<PlaybackSource>(
            in->path, in->analysis.loudness.integratedLufs, out ? out->path : QString(),
            out ? out->analysis.loudness.integratedLufs : std::nullopt);
        src->select(m_bAction->isChecked() && out ? PlaybackSource::Which::Master
                                                  : PlaybackSource::Which::Mix);
        src->seekFrame(at);
        if (!m_player->load(std::move(src)) && m_player->available()) {
            refused = m_player->loadError();
        }
    } catch (const std::exception& e) {
        m_player->load(nullptr);
        refused = QString::fromStdString(e.what());
    }
    const bool playable = m_player->loaded();
    m_playAction->setText(QStringLiteral("Play"));
    m_playAction->setEnabled(playable);
    m_aAction->setEnabled(playable);
    m_bAction->setEnabled(playable && out != nullptr);
    if (!out) {
        m_aAction->setChecked(true);
    }
    m_playback->setText(refused.isEmpty() ? playbackText()
                                          : QStringLiteral("Playback unavailable: %1").arg(refused));
}

void MainWindow::openFile(const QString& path) {
    if (!m_engine.analyze(path)) {
        showError(QStringLiteral("Lathe is busy; cancel the running job first."));
        return;
    }
    m_path = path;
    rememberRecent(path);
    setWindowTitle(QStringLiteral("%1 — Lathe Studio").arg(QFileInfo(path).fileName()));
    m_status->setText(QStringLiteral("Analysing %1…").arg(QFileInfo(path).fileName()));
}

void MainWindow::masterTo(const QString& output) {
    if (!m_engine.input()) {
        showError(QStringLiteral("Open and analyse a mix first."));
        return;
    }
    if (!m_engine.master(m_engine.input()->path, output, m_chain.document())) {
        showError(QStringLiteral("Lathe is busy; cancel the running job first."));
        return;
    }
    m_status->setText(
        QStringLiteral("Mastering with '%1'…").arg(QString::fromStdString(m_chain.preset().name)));
}

void MainWindow::chooseAndOpen() {
    const QString path = QFileDialog::getOpenFileName(
        this, QStringLiteral("Open a mix"), QString(),
        QStringLiteral("Audio (*.wav *.flac *.aif *.aiff *.rf64 *.w64 *.ogg *.mp3);;All files (*)"));
    if (!path.isEmpty()) {
        openFile(path);
    }
}

void MainWindow::chooseAndMaster() {
    const QFileInfo in(m_path);
    const QString suggestion = in.dir().filePath(in.completeBaseName() + QStringLiteral(".master.wav"));
    const QString out =
        QFileDialog::getSaveFileName(this, QStringLiteral("Write the master to"), suggestion,
                                     QStringLiteral("WAV (*.wav);;FLAC (*.flac);;AIFF (*.aif)"));
    if (!out.isEmpty()) {
        masterTo(out);
    }
}

void MainWindow::refresh() {
    const auto in = m_engine.input();
    if (!in) {
        return;
    }
    const auto out = m_engine.masterResult();
    const LoudnessResult& l = in->analysis.loudness;
    QString html = QStringLiteral("<h3>%1</h3>").arg(QFileInfo(in->path).fileName().toHtmlEscaped());
    html += QStringLiteral("<p>%1 Hz · %2 ch · %3</p>")
                .arg(l.sampleRate)
                .arg(l.channels)
                .arg(formatTime(l.durationSeconds));
    auto row = [](const QString& name, const QString& mix, const QString& master) {
        return QStringLiteral("<tr><td>%1</td><td align='right'>%2</td><td align='right'>%3</td></tr>")
            .arg(name, mix, master);
    };
    const LoudnessResult* m = out ? &out->analysis.loudness : nullptr;
    auto level = [](const std::optional<TimedLevel>& t) {
        return t ? std::optional<double>(t->value) : std::optional<double>();
    };
    html += QStringLiteral("<table cellspacing='6'><tr><th></th><th>Mix</th><th>Master</th></tr>");
    html += row(QStringLiteral("Integrated"), formatLevel(l.integratedLufs, "LUFS"),
                m ? formatLevel(m->integratedLufs, "LUFS") : QString());
    html += row(QStringLiteral("Loudness range"), formatLevel(l.lraLu, "LU"),
                m ? formatLevel(m->lraLu, "LU") : QString());
    html += row(QStringLiteral("True peak"), formatLevel(level(l.truePeakDbtp), "dBTP"),
                m ? formatLevel(level(m->truePeakDbtp), "dBTP") : QString());
    html += row(QStringLiteral("Max short-term"), formatLevel(level(l.maxShortTermLufs), "LUFS"),
                m ? formatLevel(level(m->maxShortTermLufs), "LUFS") : QString());
    html +=
        row(QStringLiteral("PLR"), formatLevel(l.plrDb, "dB"), m ? formatLevel(m->plrDb, "dB") : QString());
    html += QStringLiteral("</table>");
    // Which backend measured, and why, in the tooltip: the status bar already names the backend.
    m_summary->setToolTip(in->backend);
    m_summary->setText(html);

    m_shownTarget = targetLufs();
    m_loudness->show(l, m, m_shownTarget, m_platformMarkers);
    m_histogram->show(l, m);
    showSpectrum();
    const AnalysisResult& latest = out ? out->analysis : in->analysis;
    m_spectrogram->show(latest.spectrogram, out ? QStringLiteral("master") : QStringLiteral("mix"));
    m_correlation->show(latest.stereo, out ? QStringLiteral("master") : QStringLiteral("mix"));
    m_dynamics->show(out ? out->gainReduction : std::vector<GainReductionSeries>{});
    m_stereoBands->show(in->analysis.stereo, out ? &out->analysis.stereo : nullptr);
    const AnalysisSnapshot& shown = out ? *out : *in;
    m_platforms.setPreviews(shown.platforms);
    m_platformTable->resizeColumnsToContents();
    m_findings.setFindings(in->analysis.findings);
    if (!m_engine.translation()) {
        m_translationModel.setResult(nullptr);
    }
    m_noFindings->setText(
        QStringLiteral(
            "<p style='font-size:15pt'>Nothing to report</p><p>Lathe's mix-readiness checks (clipping, "
            "inter-sample overs, DC offset, phase and mono compatibility, headroom, over-compression, "
            "spectral balance) found no problem in %1.</p>")
            .arg(QFileInfo(in->path).fileName().toHtmlEscaped()));
    m_readiness->setCurrentWidget(in->analysis.findings.empty() ? static_cast<QWidget*>(m_noFindings)
                                                                : static_cast<QWidget*>(m_findingsList));
    m_masterAction->setEnabled(!m_engine.busy());
    m_exportAction->setEnabled(true);
}

bool MainWindow::exportReportTo(const QString& htmlPath) {
    const auto in = m_engine.input();
    if (!in) {
        return false;
    }
    const auto out = m_engine.masterResult();
    try {
        exportReport(*in, out.get(), htmlPath, targetLufs(), m_engine.translation().get());
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    m_status->setText(QStringLiteral("Wrote %1").arg(htmlPath));
    return true;
}

std::optional<double> MainWindow::targetLufs() const {
    return m_chain.preset().targetLufs;
}

bool MainWindow::loadPreset(const QString& nameOrFile) {
    try {
        m_chain.setDocument(loadPresetDocument(nameOrFile.toStdString()));
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    m_chainView->expandToDepth(0);
    return true;
}

void MainWindow::selectPreset(const QString& name) {
    if (loadPreset(name)) {
        m_chainView->resizeColumnToContents(0);
    }
}

void MainWindow::loadPresetFile() {
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Load a preset"), QString(),
                                                      QStringLiteral("Lathe preset (*.json)"));
    if (!path.isEmpty()) {
        loadPreset(path);
    }
}

void MainWindow::savePresetFile() {
    const QString path =
        QFileDialog::getSaveFileName(this, QStringLiteral("Save the preset"),
                                     QString::fromStdString(m_chain.preset().name) + QStringLiteral(".json"),
                                     QStringLiteral("Lathe preset (*.json)"));
    if (path.isEmpty()) {
        return;
    }
    try {
        writeFileAtomically(path.toStdString(), m_chain.document().json.dump(2) + "\n");
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return;
    }
    m_status->setText(QStringLiteral("Saved %1 (use it with: lathe master IN -o OUT --preset %1)").arg(path));
}

QStringList MainWindow::recentFiles() const {
    return QSettings().value(QStringLiteral("recentFiles")).toStringList();
}

void MainWindow::rememberRecent(const QString& path) {
    QStringList list = recentFiles();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    list.removeAll(absolute);
    list.prepend(absolute);
    while (list.size() > 10) {
        list.removeLast();
    }
    QSettings().setValue(QStringLiteral("recentFiles"), list);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QStringList list = recentFiles();
    for (const QString& f : list) {
        m_recentMenu->addAction(QFileInfo(f).fileName(), this, [this, f] { openFile(f); })->setToolTip(f);
    }
    m_recentMenu->setEnabled(!list.isEmpty());
}

bool MainWindow::saveSessionTo(const QString& path) {
    nlohmann::json j;
    j["schema"] = "lathe.session/1";
    j["mix"] = m_path.toStdString();
    j["master"] = m_engine.masterResult() ? m_engine.masterResult()->path.toStdString() : std::string();
    j["preset"] = m_chain.document().json;
    try {
        writeFileAtomically(path.toStdString(), j.dump(2) + "\n");
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    m_status->setText(QStringLiteral("Saved the session to %1").arg(path));
    return true;
}

bool MainWindow::openSession(const QString& path) {
    try {
        const nlohmann::json j = readJsonFile(path);
        if (j.value("schema", std::string()) != "lathe.session/1" || !j.contains("preset")) {
            throw InputError(path.toStdString(), "is not a Lathe session (schema lathe.session/1)");
        }
        PresetDocument doc;
        doc.json = j["preset"];
        doc.source = path.toStdString();
        doc.baseDir = std::filesystem::path(path.toStdString()).parent_path();
        m_chain.setDocument(doc);
        m_chainView->expandToDepth(0);
        const QString mix = QString::fromStdString(j.value("mix", std::string()));
        const QString master = QString::fromStdString(j.value("master", std::string()));
        m_pendingMaster = QFileInfo::exists(master) ? master : QString();
        if (!mix.isEmpty()) {
            openFile(mix);
        }
    } catch (const nlohmann::json::exception& e) {
        showError(QStringLiteral("%1: not a Lathe session (%2)").arg(path, QString::fromUtf8(e.what())));
        return false;
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    return true;
}

void MainWindow::compareSpeakers() {
    if (!m_engine.compareSpeakers()) {
        showError(m_engine.input() ? QStringLiteral("Lathe is busy; cancel the running job first.")
                                   : QStringLiteral("Open a mix first."));
        return;
    }
    m_status->setText(QStringLiteral("Rendering the %1 through the speaker models…")
                          .arg(m_engine.masterResult() ? QStringLiteral("master") : QStringLiteral("mix")));
}

void MainWindow::chooseAndExport() {
    const QFileInfo in(m_path);
    const QString suggestion = in.dir().filePath(in.completeBaseName() + QStringLiteral(".report.html"));
    const QString out = QFileDialog::getSaveFileName(this, QStringLiteral("Export the report"), suggestion,
                                                     QStringLiteral("HTML (*.html)"));
    if (!out.isEmpty()) {
        exportReportTo(out);
    }
}

void MainWindow::showError(const QString& message) {
    m_lastError = message;
    m_status->setText(message);
    // Non-modal: the window stays usable (and tests are not blocked by a dialog).
    auto* box =
        new QMessageBox(QMessageBox::Warning, QStringLiteral("Lathe Studio"), message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
    if (e->mimeData()->hasUrls()) {
        e->acceptProposedAction();
    }
}

void MainWindow::dropEvent(QDropEvent* e) {
    const auto urls = e->mimeData()->urls();
    if (!urls.isEmpty() && urls.front().isLocalFile()) {
        open(urls.front().toLocalFile());
    }
}

bool MainWindow::open(const QString& path) {
    if (path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive)) {
        // A session or a preset: the schema says which.
        std::string schema;
        try {
            schema = readJsonFile(path).value("schema", std::string());
        } catch (const std::exception& e) {
            showError(QStringLiteral("%1: %2").arg(path, QString::fromStdString(e.what())));
            return false;
        }
        return schema == "lathe.session/1" ? openSession(path) : loadPreset(path);
    }
    openFile(path);
    return true;
}

void MainWindow::closeEvent(QCloseEvent* e) {
    m_engine.cancel(); // the controller's destructor waits; nothing partial is left
    e->accept();
}

} // namespace lathe::ui
