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
        checkFormat(*m_master, "the master");
        if (mixLufs && masterLufs) {
            // Both at the quieter one's loudness: louder never wins, and nothing is turned up.
            const double quieter = std::min(*mixLufs, *masterLufs);
            m_gainDb[0] = quieter - *mixLufs;
            m_gainDb[1] = quieter - *masterLufs;
        }
    }
    m_gainDb[2] = m_gainDb[1];
    for (int k = 0; k < 3; ++k) {
        m_gain[k] = static_cast<float>(std::pow(10.0, m_gainDb[k] / 20.0));
    }
    // Unbuffered: no read-ahead inside QIODevice, so an A/B switch is heard at once and position()
    // is what the sink has taken.
    open(QIODevice::ReadOnly | QIODevice::Unbuffered);
}

PlaybackSource::~PlaybackSource() = default;

void PlaybackSource::checkFormat(const AudioReader& r, const char* what) const {
    if (r.sampleRate() != m_mix->sampleRate() || r.channelCount() != m_mix->channelCount()) {
        throw UsageError(std::string("A/B playback needs the mix and ") + what +
                         " at one rate and channel count (" + std::to_string(m_mix->sampleRate()) + " Hz/" +
                         std::to_string(m_mix->channelCount()) + " ch vs " + std::to_string(r.sampleRate()) +
                         " Hz/" + std::to_string(r.channelCount()) + " ch)");
    }
}

AudioReader* PlaybackSource::reader(Which which) const {
    switch (which) {
    case Which::Master:
        return m_master.get();
    case Which::Speaker:
        return m_speaker.get();
    default:
        return m_mix.get();
    }
}

void PlaybackSource::setSpeaker(const QString& render, const QString& name) {
    auto r = std::make_unique<AudioReader>(render.toStdString());
    checkFormat(*r, "the speaker render");
    const std::lock_guard lock(m_mutex);
    m_speaker = std::move(r);
    m_speakerName = name;
    if (m_which == Which::Speaker) {
        m_speaker->seek(std::min(m_position, m_speaker->totalFrames()));
    }
}

QString PlaybackSource::speakerName() const {
    const std::lock_guard lock(m_mutex);
    return m_speakerName;
}

SampleRate PlaybackSource::sampleRate() const {
    return m_mix->sampleRate();
}

int PlaybackSource::channels() const {
    return m_mix->channelCount();
}

Frames PlaybackSource::frames() const {
    const std::lock_guard lock(m_mutex);
    return reader(m_which)->totalFrames();
}

AudioReader& PlaybackSource::current() {
    return *reader(m_which);
}

void PlaybackSource::select(Which which) {
    const std::lock_guard lock(m_mutex);
    if (reader(which) == nullptr) {
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
    return m_gainDb[static_cast<int>(which)];
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

std::pair<Frames, Frames> PlaybackSource::loop() const {
    const std::lock_guard lock(m_mutex);
    return m_loopEnd > 0 ? std::pair<Frames, Frames>{m_loopBegin, m_loopEnd}
                         : std::pair<Frames, Frames>{0, 0};
}

qint64 PlaybackSource::bytesAvailable() const {
    // Endless while looping; otherwise what is left of the selected file.
    const std::lock_guard lock(m_mutex);
    const AudioReader& r = *reader(m_which);
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
    const float gain = m_gain[static_cast<int>(m_which)];
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
