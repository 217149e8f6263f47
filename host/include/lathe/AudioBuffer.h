// Lathe: planar float audio blocks, the unit that flows through a render.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Types.h>

#include <cstddef>
#include <span>

namespace lathe {

class HostMemory;

/// Planar (one contiguous array per channel) 32-bit float audio, 1.0 = digital full scale.
/// Values above 1.0 are legal (float files, gain stages); NaN/Inf are rejected at the reader's
/// consumer (RenderJob) before any processing.
///
/// Capacity grows on demand and never shrinks, so a buffer reused across blocks allocates only
/// while the first blocks pass. Not thread-safe; move it between threads, do not share it.
///
/// The samples live in ordinary heap memory unless useMemory() puts them in a HostMemory's (the
/// page-locked memory a device backend copies at the bus's speed). Moving or swapping a buffer
/// takes its memory along; a copy lives in ordinary memory. New storage is zeroed.
class AudioBuffer {
public:
    AudioBuffer() = default;
    AudioBuffer(int channels, Frames capacityFrames) { reset(channels, capacityFrames); }
    ~AudioBuffer() { release(); }
    AudioBuffer(const AudioBuffer& other);
    AudioBuffer& operator=(const AudioBuffer& other);
    AudioBuffer(AudioBuffer&& other) noexcept;
    AudioBuffer& operator=(AudioBuffer&& other) noexcept;

    /// Sets the channel count and makes room for `capacityFrames`; frames() becomes 0.
    void reset(int channels, Frames capacityFrames);

    int channels() const noexcept { return m_channels; }
    Frames frames() const noexcept { return m_frames; }
    Frames capacity() const noexcept { return m_capacity; }
    bool empty() const noexcept { return m_frames == 0; }

    /// Sets the number of valid frames, growing the capacity (and keeping content) if needed.
    /// New frames are uninitialised from the caller's point of view (they hold old or zero data).
    void setFrames(Frames frames);

    float* channel(int c) noexcept { return m_data + static_cast<std::size_t>(c) * m_capacity; }
    const float* channel(int c) const noexcept { return m_data + static_cast<std::size_t>(c) * m_capacity; }
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

    /// Keeps the samples in `memory`'s allocations from now on (nullptr: ordinary heap memory).
    /// The content is kept: storage elsewhere moves there once; the same memory is a no-op.
    void useMemory(HostMemory* memory);
    /// Where the samples live (nullptr: ordinary heap memory).
    HostMemory* memory() const noexcept { return m_memory; }

private:
    void grow(Frames capacityFrames);
    /// Storage for `count` floats from `memory` (nullptr: the heap), uninitialised; none for 0.
    /// grow() zeroes what it allocates; a copy and useMemory() overwrite all of it.
    static float* allocate(HostMemory* memory, std::size_t count);
    void release() noexcept;

    int m_channels = 0;
    Frames m_frames = 0;
    Frames m_capacity = 0;
    float* m_data = nullptr; ///< m_channels × m_capacity floats (m_size of them), or none
    std::size_t m_size = 0;  ///< floats allocated
    HostMemory* m_memory = nullptr;
};

/// Planar → interleaved (frame-major, as libsndfile writes) for `frames` frames from `offset`.
void interleave(const AudioBuffer& src, Frames offset, Frames frames, float* dst);

/// Interleaved → planar; `dst` must have the same channel count and room for `frames`.
void deinterleave(const float* src, Frames frames, AudioBuffer& dst, Frames dstOffset);

} // namespace lathe
