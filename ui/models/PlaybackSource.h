// Lathe Studio: what the speakers play — the mix or the master, level-matched so that louder never
// wins, switched at the same position (A/B), with an optional loop region. A QIODevice that an
// audio sink pulls interleaved 32-bit float frames from; it streams from the files (constant
// memory, any length).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/AudioReader.h>

#include <QIODevice>
#include <QString>
#include <memory>
#include <mutex>
#include <optional>

namespace lathe::ui {

class PlaybackSource final : public QIODevice {
    Q_OBJECT
public:
    /// Speaker: the master rendered through a speaker model (lathe compare's level-matched render),
    /// played at the master's gain so that only the device's tonality changes.
    enum class Which { Mix, Master, Speaker };

    /// `master` may be empty (A only). Loudness values are the files' integrated loudness; the
    /// louder file is turned down to the quieter one's level (no file is ever turned up, so
    /// nothing clips that did not). Throws lathe::Error when a file cannot be read, or when the
    /// master's rate or channel count differs from the mix's (A/B needs one stream format).
    PlaybackSource(const QString& mix, std::optional<double> mixLufs, const QString& master,
                   std::optional<double> masterLufs, QObject* parent = nullptr);
    ~PlaybackSource() override;

    bool hasMaster() const { return m_master != nullptr; }
    /// Loads the speaker render to switch to (same rate and channels as the mix, else an Error).
    void setSpeaker(const QString& render, const QString& name);
    QString speakerName() const;
    SampleRate sampleRate() const;
    int channels() const;
    Frames frames() const; ///< of the selected file

    /// Switches between mix and master at the current position.
    void select(Which which);
    Which selected() const;
    /// The playback gain of each file (≤ 0 dB).
    double gainDb(Which which) const;

    Frames position() const;
    void seekFrame(Frames frame);
    /// Plays [begin, end) over and over; end ≤ begin clears the loop.
    void setLoop(Frames begin, Frames end);
    /// The loop region [begin, end), or {0, 0} without one.
    std::pair<Frames, Frames> loop() const;

    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override;

protected:
    qint64 readData(char* data, qint64 maxSize) override;
    qint64 writeData(const char*, qint64) override { return -1; }

private:
    AudioReader& current();
    AudioReader* reader(Which which) const;
    /// Throws UsageError unless `r` can share the mix's stream format.
    void checkFormat(const AudioReader& r, const char* what) const;

    mutable std::mutex m_mutex; // the sink may pull from its own thread
    std::unique_ptr<AudioReader> m_mix;
    std::unique_ptr<AudioReader> m_master;
    std::unique_ptr<AudioReader> m_speaker;
    QString m_speakerName;
    float m_gain[3] = {1.0f, 1.0f, 1.0f};
    double m_gainDb[3] = {0.0, 0.0, 0.0};
    Which m_which = Which::Mix;
    Frames m_position = 0;
    Frames m_loopBegin = 0;
    Frames m_loopEnd = 0;
    AudioBuffer m_block;
};

} // namespace lathe::ui
