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

    bool available() const { return m_reason.isEmpty(); }
    QString unavailableReason() const { return m_reason; }

    /// Takes the source to play (stops what played before). False (with the reason) when the
    /// output cannot play its format.
    bool load(std::unique_ptr<PlaybackSource> source);
    PlaybackSource* source() const { return m_source.get(); }
    void play();
    void pause();
    bool playing() const;

private:
    std::unique_ptr<PlaybackSource> m_source;
    std::unique_ptr<QAudioSink> m_sink;
    QString m_reason;
};

} // namespace lathe::ui
