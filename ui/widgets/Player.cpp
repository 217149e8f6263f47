// SPDX-License-Identifier: GPL-3.0-or-later
#include "Player.h"

#include <QAudioDevice>
#include <QAudioFormat>
#include <QAudioSink>
#include <QMediaDevices>

namespace lathe::ui {

Player::Player(QObject* parent) : QObject(parent) {
    if (QMediaDevices::audioOutputs().isEmpty() || QMediaDevices::defaultAudioOutput().isNull()) {
        m_reason = QStringLiteral("no audio output device");
    }
}

Player::~Player() {
    if (m_sink) {
        m_sink->stop();
    }
}

bool Player::load(std::unique_ptr<PlaybackSource> source) {
    if (m_sink) {
        m_sink->stop();
        m_sink.reset();
    }
    m_source = std::move(source);
    m_loadError.clear();
    if (!available() || !m_source) {
        m_loadError = available() ? QStringLiteral("nothing to play") : m_reason;
        return false;
    }
    QAudioFormat format;
    format.setSampleRate(static_cast<int>(m_source->sampleRate()));
    format.setChannelCount(m_source->channels());
    format.setSampleFormat(QAudioFormat::Float);
    const QAudioDevice device = QMediaDevices::defaultAudioOutput();
    if (!device.isFormatSupported(format)) {
        m_loadError = QStringLiteral("the audio output cannot play %1 Hz, %2 channels")
                          .arg(format.sampleRate())
                          .arg(format.channelCount());
        return false;
    }
    m_sink = std::make_unique<QAudioSink>(device, format);
    return true;
}

void Player::play() {
    if (!m_sink || !m_source) {
        return;
    }
    if (m_sink->state() == QAudio::SuspendedState) {
        m_sink->resume();
    } else {
        m_sink->start(m_source.get());
    }
}

void Player::pause() {
    if (m_sink && m_sink->state() == QAudio::ActiveState) {
        m_sink->suspend();
    }
}

bool Player::playing() const {
    return m_sink && m_sink->state() == QAudio::ActiveState;
}

} // namespace lathe::ui
