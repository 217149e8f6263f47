// Lathe Studio's playback through a real audio server: a PulseAudio daemon (the server Qt
// Multimedia talks to on Linux) with a null sink, started for these tests in a temporary
// directory. What reaches the sink is recorded from its monitor with parec and compared sample
// by sample with the files times their level-matching gains — the path from PlaybackSource
// through QAudioSink and the server that the offscreen tests (no device) cannot reach.
// Skips, saying why, when pulseaudio or parec is not installed (scripts/deps installs both).
// SPDX-License-Identifier: GPL-3.0-or-later
#include "TestSignals.h"
#include "app/MainWindow.h"
#include "models/EngineController.h"
#include "models/PlaybackSource.h"
#include "widgets/LoudnessView.h"
#include "widgets/Player.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <QAction>
#include <QApplication>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

namespace {

using namespace lathe;
using namespace lathe::ui;

constexpr int kRate = 48000;
constexpr int kChannels = 2;
/// The null sink and the stream are float32 at the files' rate, and a new stream plays at the
/// server's unity volume: no resampling, no volume scaling, no format conversion anywhere on
/// the way, so what the monitor records is the very float the source produced.
constexpr float kExact = 0.0f;
/// module-null-sink's block length while no stream asks for less (BLOCK_USEC in its source).
constexpr unsigned long kNullSinkBlockMs = 2000;

class AudioDevice : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_skip.clear();
        const QString daemon = QStandardPaths::findExecutable(QStringLiteral("pulseaudio"));
        s_parec = QStandardPaths::findExecutable(QStringLiteral("parec"));
        if (daemon.isEmpty() || s_parec.isEmpty()) {
            s_skip = QStringLiteral("pulseaudio or parec not installed (scripts/deps installs them)");
            return;
        }
        s_dir = std::make_unique<QTemporaryDir>();
        const QString socket = s_dir->filePath(QStringLiteral("native"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), s_dir->path()); // cookie and state stay in the temp dir
        env.insert(QStringLiteral("XDG_RUNTIME_DIR"), s_dir->path());
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), s_dir->path());
        s_daemon = std::make_unique<QProcess>();
        s_daemon->setProcessEnvironment(env);
        s_daemon->setProcessChannelMode(QProcess::MergedChannels);
        // -n: no default configuration (no hardware probing); root is allowed to run it this way.
        s_daemon->start(
            daemon,
            {QStringLiteral("-n"), QStringLiteral("--daemonize=no"), QStringLiteral("--exit-idle-time=-1"),
             QStringLiteral("--disable-shm=yes"), QStringLiteral("--log-target=stderr"), QStringLiteral("-L"),
             QStringLiteral("module-null-sink sink_name=lathe_null format=float32le rate=%1 "
                            "channels=%2")
                 .arg(kRate)
                 .arg(kChannels),
             QStringLiteral("-L"),
             QStringLiteral("module-native-protocol-unix auth-anonymous=1 socket=%1").arg(socket)});
        if (!s_daemon->waitForStarted(5000)) {
            s_skip = QStringLiteral("pulseaudio did not start: %1").arg(s_daemon->errorString());
            return;
        }
        QDeadlineTimer deadline(10000);
        while (!QFileInfo::exists(socket) && !deadline.hasExpired() &&
               s_daemon->state() == QProcess::Running) {
            QThread::msleep(20);
        }
        if (!QFileInfo::exists(socket)) {
            s_daemon->waitForFinished(100);
            s_skip = QStringLiteral("pulseaudio did not open its socket: %1")
                         .arg(QString::fromLocal8Bit(s_daemon->readAll()).right(600));
            return;
        }
        // Qt Multimedia connects on first use of QMediaDevices, after this.
        s_server = QStringLiteral("unix:") + socket;
        qputenv("PULSE_SERVER", s_server.toLocal8Bit());
        qputenv("PULSE_RUNTIME_PATH", s_dir->path().toLocal8Bit());
        // A null sink nobody asks for low latency renders 2-second blocks (module-null-sink's
        // BLOCK_USEC), so a stream would reach the monitor up to 2 s late. A recorder asking for
        // 10 ms, kept for the whole suite, shortens the blocks from the end of the current one.
        s_holder = record(QStringLiteral("/dev/null"));
        if (!s_holder->waitForStarted(5000)) {
            s_skip = QStringLiteral("parec did not start: %1").arg(s_holder->errorString());
            return;
        }
        QThread::msleep(kNullSinkBlockMs + 300);
    }

    static void TearDownTestSuite() {
        if (s_holder) {
            s_holder->terminate();
            s_holder->waitForFinished(5000);
            s_holder.reset();
        }
        if (s_daemon && s_daemon->state() == QProcess::Running) {
            s_daemon->terminate();
            if (!s_daemon->waitForFinished(5000)) {
                s_daemon->kill();
                s_daemon->waitForFinished(2000);
            }
        }
        s_daemon.reset();
        s_dir.reset();
    }

    void SetUp() override {
        if (!s_skip.isEmpty()) {
            GTEST_SKIP() << s_skip.toStdString();
        }
    }

    /// Records the null sink's monitor (raw float32 interleaved) into `path` until stopped.
    static std::unique_ptr<QProcess> record(const QString& path) {
        auto p = std::make_unique<QProcess>();
        p->setStandardOutputFile(path);
        p->start(s_parec,
                 {QStringLiteral("--server=%1").arg(s_server), QStringLiteral("--device=lathe_null.monitor"),
                  QStringLiteral("--format=float32le"), QStringLiteral("--rate=%1").arg(kRate),
                  QStringLiteral("--channels=%1").arg(kChannels), QStringLiteral("--raw"),
                  QStringLiteral("--latency-msec=10")});
        return p;
    }

    static inline QString s_skip;
    static inline QString s_parec;
    static inline QString s_server;
    static inline std::unique_ptr<QTemporaryDir> s_dir;
    static inline std::unique_ptr<QProcess> s_daemon;
    static inline std::unique_ptr<QProcess> s_holder; ///< keeps the null sink's latency low
};

/// Runs the event loop for `ms` (the sink pulls from the source on it).
void pump(int ms) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
        QThread::msleep(5);
    }
}

std::vector<float> readRaw(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        return {};
    }
    const QByteArray bytes = f.readAll();
    std::vector<float> v(static_cast<std::size_t>(bytes.size()) / sizeof(float));
    std::memcpy(v.data(), bytes.constData(), v.size() * sizeof(float));
    return v;
}

/// Where the stream begins in a recording of the sink (silent before it): the first frame that
/// is not zero, and which frame of the mix it is — the mix's first, or a few milliseconds in, as a
/// stream joining a running sink may start where the sink's current block already is (172 frames
/// seen here). Nothing when no frame is heard or the first one heard is not one of the mix's first
/// kJoinSlackFrames, at unity gain.
struct StreamStart {
    std::size_t recordedFrame;
    std::size_t mixFrame;
};
constexpr std::size_t kJoinSlackFrames = kRate / 10;
std::optional<StreamStart> streamStart(const std::vector<float>& got, const test::Planar& mix) {
    const std::size_t recorded = got.size() / kChannels;
    std::size_t first = 0;
    while (first < recorded && got[first * kChannels] == 0.0f && got[first * kChannels + 1] == 0.0f) {
        ++first;
    }
    if (first == recorded) {
        return std::nullopt;
    }
    for (std::size_t from = 0; from < kJoinSlackFrames && from < mix[0].size(); ++from) {
        if (got[first * kChannels] == mix[0][from] && got[first * kChannels + 1] == mix[1][from]) {
            return StreamStart{first, from};
        }
    }
    return std::nullopt;
}

// Play the mix, switch to the master mid-way: the server receives the mix times its gain, then
// — from the very next frame, no gap, no repeat — the master times its (level-matching) gain.
TEST_F(AudioDevice, PlaysLevelMatchedSamplesAndSwitchesAtTheSamePosition) {
    QTemporaryDir dir;
    const QString a = dir.filePath(QStringLiteral("mix.wav"));
    const QString b = dir.filePath(QStringLiteral("master.wav"));
    const Frames frames = 4 * kRate;
    const test::Planar mix{test::noise(frames, 0.25, 11), test::noise(frames, 0.25, 12)};
    const test::Planar master{test::noise(frames, 0.5, 13), test::noise(frames, 0.5, 14)};
    test::writeRawFloat(a.toStdString(), mix, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    test::writeRawFloat(b.toStdString(), master, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);

    Player player;
    ASSERT_TRUE(player.available()) << player.unavailableReason().toStdString();
    auto source = std::make_unique<PlaybackSource>(a, -20.0, b, -14.0); // master plays 6 dB down
    PlaybackSource* src = source.get();
    ASSERT_TRUE(player.load(std::move(source))) << player.unavailableReason().toStdString();

    const QString recording = dir.filePath(QStringLiteral("monitor.raw"));
    std::unique_ptr<QProcess> rec = record(recording);
    ASSERT_TRUE(rec->waitForStarted(5000));
    pump(300); // the recorder is connected before anything plays
    player.play();
    pump(900);
    EXPECT_TRUE(player.playing());
    src->select(PlaybackSource::Which::Master);
    pump(900);
    player.pause();
    const Frames played = src->position();
    pump(300);
    rec->terminate(); // parec drains and exits on SIGTERM
    ASSERT_TRUE(rec->waitForFinished(5000));

    const std::vector<float> got = readRaw(recording);
    ASSERT_GT(got.size(), static_cast<std::size_t>(kRate) * kChannels) << "the monitor recorded under 1 s";
    const std::size_t recorded = got.size() / kChannels;
    auto at = [&](std::size_t frame, int c) { return got[frame * kChannels + static_cast<std::size_t>(c)]; };
    const std::optional<StreamStart> start = streamStart(got, mix);
    ASSERT_TRUE(start)
        << "nothing reached the sink, or the first frame heard is not the mix's (at unity gain)";
    const std::size_t first = start->recordedFrame;
    const std::size_t from = start->mixFrame;
    const float mixGain = 1.0f; // the quieter file plays as it is
    const float masterGain = static_cast<float>(std::pow(10.0, -6.0 / 20.0));
    auto matches = [&](std::size_t recFrame, const test::Planar& file, std::size_t fileFrame, float gain) {
        return recFrame < recorded && fileFrame < file[0].size() &&
               std::abs(at(recFrame, 0) - file[0][fileFrame] * gain) <= kExact &&
               std::abs(at(recFrame, 1) - file[1][fileFrame] * gain) <= kExact;
    };
    // The mix frame after frame, up to the switch …
    std::size_t n = 0;
    while (matches(first + n, mix, from + n, mixGain)) {
        ++n;
    }
    EXPECT_GT(n, static_cast<std::size_t>(kRate / 4)) << "a quarter second of the mix before the switch";
    // … and from the very next file frame the master, 6 dB down, until the pause …
    const std::size_t switched = from + n;
    std::size_t m = 0;
    while (matches(first + n + m, master, switched + m, masterGain)) {
        ++m;
    }
    EXPECT_GT(m, static_cast<std::size_t>(kRate / 4)) << "the master at frame " << switched << " and on";
    EXPECT_LE(switched + m, static_cast<std::size_t>(played));
    // … and nothing else: silence after it (no repeat, no stray block).
    for (std::size_t f = first + n + m; f < recorded; ++f) {
        ASSERT_EQ(at(f, 0), 0.0f) << "frame " << f - first << " after the start is neither file";
        ASSERT_EQ(at(f, 1), 0.0f) << "frame " << f - first << " after the start is neither file";
    }
}

// A file the device cannot take is refused with the reason, and the next file still loads (the
// refusal is not a lost device).
TEST_F(AudioDevice, AFormatRefusalDoesNotLoseTheDevice) {
    Player player;
    ASSERT_TRUE(player.available()) << player.unavailableReason().toStdString();
    QTemporaryDir dir;
    const QString many = dir.filePath(QStringLiteral("40ch.wav"));
    test::Planar forty;
    for (int c = 0; c < 40; ++c) {
        forty.push_back(test::noise(4800, 0.1, static_cast<unsigned>(c + 1)));
    }
    test::writeRawFloat(many.toStdString(), forty, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    // PulseAudio streams carry at most 32 channels (PA_CHANNELS_MAX).
    EXPECT_FALSE(player.load(std::make_unique<PlaybackSource>(many, -20.0, QString(), std::nullopt)));
    EXPECT_TRUE(player.loadError().contains(QStringLiteral("40 channels")))
        << player.loadError().toStdString();
    EXPECT_FALSE(player.loaded());
    const QString stereo = dir.filePath(QStringLiteral("stereo.wav"));
    test::writeRawFloat(stereo.toStdString(), {test::noise(4800, 0.1, 1), test::noise(4800, 0.1, 2)}, kRate,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    EXPECT_TRUE(player.available());
    EXPECT_TRUE(player.load(std::make_unique<PlaybackSource>(stereo, -20.0, QString(), std::nullopt)))
        << player.unavailableReason().toStdString();
}

// The app as a user drives it: open a mix, press Play — the transport says what plays at which
// gain, the playhead moves, and the mix's own samples reach the server.
TEST_F(AudioDevice, TheStudioPlaysTheOpenedMix) {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("mix.wav"));
    const Frames frames = 6 * kRate;
    const test::Planar mix{test::noise(frames, 0.25, 21), test::noise(frames, 0.25, 22)};
    test::writeRawFloat(path.toStdString(), mix, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);

    MainWindow w;
    w.resize(1600, 1000);
    w.show();
    ASSERT_TRUE(w.player().available()) << w.player().unavailableReason().toStdString();
    QSignalSpy analysed(&w.engine(), &EngineController::analysisFinished);
    QSignalSpy failed(&w.engine(), &EngineController::failed);
    w.openFile(path);
    for (int waited = 0; waited < 60000 && analysed.isEmpty() && failed.isEmpty(); waited += 50) {
        analysed.wait(50);
    }
    ASSERT_FALSE(analysed.isEmpty()) << w.lastError().toStdString();
    QAction* play = nullptr;
    for (QAction* a : w.findChildren<QAction*>()) {
        if (a->text() == QLatin1String("Play")) {
            play = a;
        }
    }
    ASSERT_NE(play, nullptr);
    ASSERT_TRUE(play->isEnabled()) << w.playbackText().toStdString();
    EXPECT_EQ(w.playbackText(), QStringLiteral("Playing the mix as it is")) << "no master yet: unity gain";

    const QString recording = dir.filePath(QStringLiteral("monitor.raw"));
    std::unique_ptr<QProcess> rec = record(recording);
    ASSERT_TRUE(rec->waitForStarted(5000));
    pump(300);
    play->trigger();
    pump(800);
    EXPECT_TRUE(w.player().playing());
    EXPECT_EQ(play->text(), QStringLiteral("Pause"));
    EXPECT_GT(w.loudnessView()->playhead(), 0.2) << "the playhead follows the sound";
    play->trigger();
    EXPECT_FALSE(w.player().playing());
    pump(300);
    rec->terminate();
    ASSERT_TRUE(rec->waitForFinished(5000));

    // What reached the server is the mix, frame for frame (the only file open: unity gain).
    const std::vector<float> got = readRaw(recording);
    const std::optional<StreamStart> start = streamStart(got, mix);
    ASSERT_TRUE(start) << "nothing reached the sink, or the first frame heard is not the mix's";
    const std::size_t first = start->recordedFrame * kChannels;
    const std::size_t from = start->mixFrame;
    ASSERT_LT(first + kChannels * std::size_t{kRate / 4}, got.size()) << "under 0.25 s reached the sink";
    for (std::size_t i = 0; i < static_cast<std::size_t>(kRate / 4); ++i) {
        ASSERT_EQ(got[first + 2 * i], mix[0][from + i]) << i;
        ASSERT_EQ(got[first + 2 * i + 1], mix[1][from + i]) << i;
    }
}

} // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    QApplication app(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
