// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/AudioBuffer.h>
#include <lathe/Error.h>

#include <algorithm>
#include <cstring>

namespace lathe {

void AudioBuffer::reset(int channels, Frames capacityFrames) {
    LATHE_EXPECTS(channels >= 0 && capacityFrames >= 0, "AudioBuffer::reset with negative size");
    if (channels != m_channels) {
        m_channels = channels;
        m_capacity = 0;
        m_data.clear();
    }
    m_frames = 0;
    if (capacityFrames > m_capacity) {
        grow(capacityFrames);
    }
}

void AudioBuffer::grow(Frames capacityFrames) {
    // Channels are laid out at multiples of the capacity, so growing re-lays them out.
    std::vector<float> data(static_cast<std::size_t>(capacityFrames) * static_cast<std::size_t>(m_channels));
    for (int c = 0; c < m_channels; ++c) {
        std::copy_n(m_data.data() + static_cast<std::size_t>(c) * m_capacity, m_frames,
                    data.data() + static_cast<std::size_t>(c) * capacityFrames);
    }
    m_data.swap(data);
    m_capacity = capacityFrames;
}

void AudioBuffer::setFrames(Frames frames) {
    LATHE_EXPECTS(frames >= 0, "AudioBuffer::setFrames with a negative count");
    if (frames > m_capacity) {
        grow(std::max(frames, m_capacity + m_capacity / 2));
    }
    m_frames = frames;
}

void AudioBuffer::clear() {
    for (int c = 0; c < m_channels; ++c) {
        std::fill_n(channel(c), m_frames, 0.0f);
    }
}

void AudioBuffer::append(const AudioBuffer& src, Frames srcOffset, Frames count) {
    LATHE_EXPECTS(src.channels() == m_channels, "AudioBuffer::append across channel counts");
    LATHE_EXPECTS(srcOffset >= 0 && count >= 0 && srcOffset + count <= src.frames(),
                  "AudioBuffer::append out of range");
    const Frames start = m_frames;
    setFrames(m_frames + count);
    for (int c = 0; c < m_channels; ++c) {
        std::copy_n(src.channel(c) + srcOffset, count, channel(c) + start);
    }
}

void AudioBuffer::dropFront(Frames count) {
    LATHE_EXPECTS(count >= 0 && count <= m_frames, "AudioBuffer::dropFront out of range");
    if (count == 0) {
        return;
    }
    for (int c = 0; c < m_channels; ++c) {
        float* p = channel(c);
        std::memmove(p, p + count, static_cast<std::size_t>(m_frames - count) * sizeof(float));
    }
    m_frames -= count;
}

void interleave(const AudioBuffer& src, Frames offset, Frames frames, float* dst) {
    const int channels = src.channels();
    if (channels == 2) { // the common case, kept simple enough to vectorise
        const float* l = src.channel(0) + offset;
        const float* r = src.channel(1) + offset;
        for (Frames i = 0; i < frames; ++i) {
            dst[2 * i] = l[i];
            dst[2 * i + 1] = r[i];
        }
        return;
    }
    for (int c = 0; c < channels; ++c) {
        const float* s = src.channel(c) + offset;
        for (Frames i = 0; i < frames; ++i) {
            dst[i * channels + c] = s[i];
        }
    }
}

void deinterleave(const float* src, Frames frames, AudioBuffer& dst, Frames dstOffset) {
    const int channels = dst.channels();
    if (channels == 2) {
        float* l = dst.channel(0) + dstOffset;
        float* r = dst.channel(1) + dstOffset;
        for (Frames i = 0; i < frames; ++i) {
            l[i] = src[2 * i];
            r[i] = src[2 * i + 1];
        }
        return;
    }
    for (int c = 0; c < channels; ++c) {
        float* d = dst.channel(c) + dstOffset;
        for (Frames i = 0; i < frames; ++i) {
            d[i] = src[i * channels + c];
        }
    }
}

} // namespace lathe
