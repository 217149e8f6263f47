// SPDX-License-Identifier: GPL-3.0-or-later
#include "PlaybackSource.h"

#include <lathe/Error.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lathe::ui {

PlaybackSource::PlaybackSource(const QString& mix, std::optional<double> mixLufs, const QString& master,
                               std::optional<double> masterLufs, QObject* parent)
    : QIODevice(parent), m_mix(std::make_unique<AudioReader>(mix.toStdString())) {
    if (!master.isEmpty()) {
        m_master = std::make_unique<AudioReader>(master.toStdString());
        if (m_master->sampleRate() != m_mix->sampleRate() ||
            m_master->channelCount() != m_mix->channelCount()) {
            throw UsageError("A/B playback needs the mix and the master at one rate and channel count (" +
                             std::to_string(m_mix->sampleRate()) + " Hz/" +
                             std::to_string(m_mix->channelCount()) + " ch vs " +
                             std::to_string(m_master->sampleRate()) + " Hz/" +
                             std::to_string(m_master->channelCount()) + " ch)");
        }
        if (mixLufs && masterLufs) {
            // Both at the quieter one's loudness: louder never wins, and nothing is turned up.
            const double quieter = std::min(*mixLufs, *masterLufs);
            m_gainDb[0] = quieter - *mixLufs;
            m_gainDb[1] = quieter - *masterLufs;
        }
    }
    for (int k = 0; k < 2; ++k) {
        m_gain[k] = static_cast<float>(std::pow(10.0, m_gainDb[k] / 20.0));
    }
    // Unbuffered: no read-ahead inside QIODevice, so an A/B switch is heard at once and position()
    // is what the sink has taken.
    open(QIODevice::ReadOnly | QIODevice::Unbuffered);
}

PlaybackSource::~PlaybackSource() = default;

SampleRate PlaybackSource::sampleRate() const {
    return m_mix->sampleRate();
}

int PlaybackSource::channels() const {
    return m_mix->channelCount();
}

Frames PlaybackSource::frames() const {
    const std::lock_guard lock(m_mutex);
    return (m_which == Which::Master ? *m_master : *m_mix).totalFrames();
}

AudioReader& PlaybackSource::current() {
    return m_which == Which::Master ? *m_master : *m_mix;
}

void PlaybackSource::select(Which which) {
    const std::lock_guard lock(m_mutex);
    if (which == Which::Master && !m_master) {
        return;
    }
    m_which = which;
    current().seek(std::min(m_position, current().totalFrames()));
}

PlaybackSource::Which PlaybackSource::selected() const {
    const std::lock_guard lock(m_mutex);
    return m_which;
}

double PlaybackSource::gainDb(Which which) const {
    return m_gainDb[which == Which::Master ? 1 : 0];
}

Frames PlaybackSource::position() const {
    const std::lock_guard lock(m_mutex);
    return m_position;
}

void PlaybackSource::seekFrame(Frames frame) {
    const std::lock_guard lock(m_mutex);
    m_position = std::clamp<Frames>(frame, 0, current().totalFrames());
    current().seek(m_position);
}

void PlaybackSource::setLoop(Frames begin, Frames end) {
    const std::lock_guard lock(m_mutex);
    const Frames total = current().totalFrames();
    m_loopBegin = std::clamp<Frames>(begin, 0, total);
    m_loopEnd = std::min(end, total) > m_loopBegin ? std::min(end, total) : 0;
}

qint64 PlaybackSource::bytesAvailable() const {
    // Endless while looping; otherwise what is left of the selected file.
    const std::lock_guard lock(m_mutex);
    const AudioReader& r = m_which == Which::Master ? *m_master : *m_mix;
    const Frames left = m_loopEnd > 0 ? r.totalFrames() : r.totalFrames() - m_position;
    return static_cast<qint64>(left) * r.channelCount() * static_cast<qint64>(sizeof(float)) +
           QIODevice::bytesAvailable();
}

qint64 PlaybackSource::readData(char* data, qint64 maxSize) {
    const std::lock_guard lock(m_mutex);
    AudioReader& r = current();
    const int ch = r.channelCount();
    const qint64 frameBytes = ch * static_cast<qint64>(sizeof(float));
    Frames want = static_cast<Frames>(maxSize / frameBytes);
    const float gain = m_gain[m_which == Which::Master ? 1 : 0];
    qint64 written = 0;
    while (want > 0) {
        if (m_loopEnd > 0 && m_position >= m_loopEnd) {
            m_position = m_loopBegin;
            r.seek(m_position);
        }
        Frames chunk = want;
        if (m_loopEnd > 0) {
            chunk = std::min(chunk, m_loopEnd - m_position);
        }
        const Frames got = r.read(m_block, chunk);
        if (got == 0) {
            break; // the end of the file (without a loop)
        }
        auto* out = reinterpret_cast<float*>(data + written);
        for (Frames i = 0; i < got; ++i) {
            for (int c = 0; c < ch; ++c) {
                out[i * ch + c] = m_block.channel(c)[i] * gain;
            }
        }
        written += got * frameBytes;
        m_position += got;
        want -= got;
    }
    return written;
}

} // namespace lathe::ui
