// Lathe Studio: the audio output (Qt Multimedia) for a PlaybackSource. Without an output device
// the app still works: available() is false and unavailableReason() says why.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/PlaybackSource.h"

#include <QObject>
#include <memory>

class QAudioSink;

namespace lathe::ui {

class Player final : public QObject {
    Q_OBJECT
public:
    explicit Player(QObject* parent = nullptr);
    ~Player() override;

    /// Whether there is an output device at all (else unavailableReason() says so).
    bool available() const { return m_reason.isEmpty(); }
    QString unavailableReason() const { return m_reason; }

    /// Takes the source to play (stops what played before). False when there is no device, no
    /// source, or the device cannot play the source's format (loadError() says which); the
    /// device stays available for the next file.
    bool load(std::unique_ptr<PlaybackSource> source);
    /// Whether a source is loaded and can play.
    bool loaded() const { return m_sink != nullptr; }
    QString loadError() const { return m_loadError; }
    PlaybackSource* source() const { return m_source.get(); }
    void play();
    void pause();
    bool playing() const;

private:
    std::unique_ptr<PlaybackSource> m_source;
    std::unique_ptr<QAudioSink> m_sink;
    QString m_reason;
    QString m_loadError;
};

} // namespace lathe::ui
