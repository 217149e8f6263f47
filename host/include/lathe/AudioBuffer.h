// Lathe: planar float audio blocks, the unit that flows through a render.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Types.h>

#include <cstddef>
#include <span>
#include <vector>

namespace lathe {

/// Planar (one contiguous array per channel) 32-bit float audio, 1.0 = digital full scale.
/// Values above 1.0 are legal (float files, gain stages); NaN/Inf are rejected at the reader's
/// consumer (RenderJob) before any processing.
///
/// Capacity grows on demand and never shrinks, so a buffer reused across blocks allocates only
/// while the first blocks pass. Not thread-safe; move it between threads, do not share it.
class AudioBuffer {
public:
    AudioBuffer() = default;
    AudioBuffer(int channels, Frames capacityFrames) { reset(channels, capacityFrames); }

    /// Sets the channel count and makes room for `capacityFrames`; frames() becomes 0.
    void reset(int channels, Frames capacityFrames);

    int channels() const noexcept { return m_channels; }
    Frames frames() const noexcept { return m_frames; }
    Frames capacity() const noexcept { return m_capacity; }
    bool empty() const noexcept { return m_frames == 0; }

    /// Sets the number of valid frames, growing the capacity (and keeping content) if needed.
    /// New frames are uninitialised from the caller's point of view (they hold old or zero data).
    void setFrames(Frames frames);

    float* channel(int c) noexcept { return m_data.data() + static_cast<std::size_t>(c) * m_capacity; }
    const float* channel(int c) const noexcept {
        return m_data.data() + static_cast<std::size_t>(c) * m_capacity;
    }
    std::span<float> span(int c) noexcept { return {channel(c), static_cast<std::size_t>(m_frames)}; }
    std::span<const float> span(int c) const noexcept {
        return {channel(c), static_cast<std::size_t>(m_frames)};
    }

    /// Sets every valid frame of every channel to 0.
    void clear();

    /// Appends `count` frames of `src` starting at `srcOffset` (same channel count).
    void append(const AudioBuffer& src, Frames srcOffset, Frames count);

    /// Removes the first `count` frames, moving the rest to the front.
    void dropFront(Frames count);

private:
    void grow(Frames capacityFrames);

    int m_channels = 0;
    Frames m_frames = 0;
    Frames m_capacity = 0;
    std::vector<float> m_data;
};

/// Planar → interleaved (frame-major, as libsndfile writes) for `frames` frames from `offset`.
void interleave(const AudioBuffer& src, Frames offset, Frames frames, float* dst);

/// Interleaved → planar; `dst` must have the same channel count and room for `frames`.
void deinterleave(const float* src, Frames frames, AudioBuffer& dst, Frames dstOffset);

} // namespace lathe
