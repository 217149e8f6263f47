// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/AudioBuffer.h>
#include <lathe/Error.h>
#include <lathe/HostMemory.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace lathe {

AudioBuffer::AudioBuffer(const AudioBuffer& other)
    : m_channels(other.m_channels), m_frames(other.m_frames), m_capacity(other.m_capacity),
      m_data(allocate(nullptr, other.m_size)), m_size(other.m_size) {
    std::copy_n(other.m_data, m_size, m_data);
}

AudioBuffer& AudioBuffer::operator=(const AudioBuffer& other) {
    if (this != &other) {
        AudioBuffer copy(other);
        *this = std::move(copy);
    }
    return *this;
}

AudioBuffer::AudioBuffer(AudioBuffer&& other) noexcept
    : m_channels(std::exchange(other.m_channels, 0)), m_frames(std::exchange(other.m_frames, 0)),
      m_capacity(std::exchange(other.m_capacity, 0)), m_data(std::exchange(other.m_data, nullptr)),
      m_size(std::exchange(other.m_size, 0)), m_memory(std::exchange(other.m_memory, nullptr)) {}

AudioBuffer& AudioBuffer::operator=(AudioBuffer&& other) noexcept {
    if (this != &other) {
        release();
        m_channels = std::exchange(other.m_channels, 0);
        m_frames = std::exchange(other.m_frames, 0);
        m_capacity = std::exchange(other.m_capacity, 0);
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
        m_memory = std::exchange(other.m_memory, nullptr);
    }
    return *this;
}

float* AudioBuffer::allocate(HostMemory* memory, std::size_t count) {
    if (count == 0) {
        return nullptr;
    }
    return memory != nullptr ? static_cast<float*>(memory->allocate(count * sizeof(float)))
                             : new float[count];
}

void AudioBuffer::release() noexcept {
    if (m_data == nullptr) {
        return;
    }
    if (m_memory != nullptr) {
        m_memory->release(m_data, m_size * sizeof(float));
    } else {
        delete[] m_data;
    }
    m_data = nullptr;
    m_size = 0;
}

void AudioBuffer::reset(int channels, Frames capacityFrames) {
    LATHE_EXPECTS(channels >= 0 && capacityFrames >= 0, "AudioBuffer::reset with negative size");
    if (channels != m_channels) {
        release();
        m_channels = channels;
        m_capacity = 0;
    }
    m_frames = 0;
    if (capacityFrames > m_capacity) {
        grow(capacityFrames);
    }
}

void AudioBuffer::grow(Frames capacityFrames) {
    // Channels are laid out at multiples of the capacity, so growing re-lays them out.
    const std::size_t size = static_cast<std::size_t>(capacityFrames) * static_cast<std::size_t>(m_channels);
    float* data = allocate(m_memory, size);
    std::fill_n(data, size, 0.0f);
    for (int c = 0; c < m_channels; ++c) {
        std::copy_n(m_data + static_cast<std::size_t>(c) * m_capacity, m_frames,
                    data + static_cast<std::size_t>(c) * capacityFrames);
    }
    release();
    m_data = data;
    m_size = size;
    m_capacity = capacityFrames;
}

void AudioBuffer::useMemory(HostMemory* memory) {
    if (memory == m_memory) {
        return;
    }
    float* data = allocate(memory, m_size);
    std::copy_n(m_data, m_size, data);
    const std::size_t size = m_size;
    release(); // to the memory it came from
    m_data = data;
    m_size = size;
    m_memory = memory;
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
