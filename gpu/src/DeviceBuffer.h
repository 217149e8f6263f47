// Lathe (private to gpu/src): RAII device memory and streams.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "CudaCheck.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace lathe::gpu::detail {

/// Bytes held by every DeviceBuffer of the process, now and at most (Backend::deviceTiming reports
/// the peak: memory use is bounded by the chunk sizes, not by the file's length).
inline std::atomic<std::int64_t> g_bufferBytes{0};
inline std::atomic<std::int64_t> g_bufferBytesPeak{0};

inline void countBufferBytes(std::int64_t delta) {
    const std::int64_t now = g_bufferBytes.fetch_add(delta) + delta;
    std::int64_t peak = g_bufferBytesPeak.load();
    while (now > peak && !g_bufferBytesPeak.compare_exchange_weak(peak, now)) {
    }
}

/// Owns `count` elements of T in device memory; grows (never shrinks) with reserve().
template <typename T> class DeviceBuffer {
public:
    DeviceBuffer() = default;
    ~DeviceBuffer() { release(); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept
        : m_ptr(std::exchange(o.m_ptr, nullptr)), m_count(std::exchange(o.m_count, 0)) {}

    /// Ensures room for `count` elements (contents are not preserved when it grows).
    void reserve(std::size_t count) {
        if (count <= m_count) {
            return;
        }
        release();
        void* p = nullptr;
        cudaError_t e = injectedFault(FaultSite::Malloc);
        if (e == cudaSuccess) {
            e = cudaMalloc(&p, count * sizeof(T));
        }
        if (e != cudaSuccess) {
            throwCudaError(e, "cudaMalloc(&p, count * sizeof(T))", __FILE__, __LINE__);
        }
        m_ptr = static_cast<T*>(p);
        m_count = count;
        countBufferBytes(static_cast<std::int64_t>(count * sizeof(T)));
    }

    T* get() const noexcept { return m_ptr; }
    std::size_t size() const noexcept { return m_count; }

private:
    void release() noexcept {
        if (m_ptr != nullptr) {
            cudaFree(m_ptr); // cannot fail meaningfully in a destructor; errors surface on the next call
            countBufferBytes(-static_cast<std::int64_t>(m_count * sizeof(T)));
            m_ptr = nullptr;
            m_count = 0;
        }
    }

    T* m_ptr = nullptr;
    std::size_t m_count = 0;
};

/// Owns a non-blocking CUDA stream on `device` (work on it does not wait for the legacy default stream).
class DeviceStream {
public:
    explicit DeviceStream(int device) {
        LATHE_CUDA_TRY(cudaSetDevice(device));
        LATHE_CUDA_TRY(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking));
    }
    ~DeviceStream() { cudaStreamDestroy(m_stream); }
    DeviceStream(const DeviceStream&) = delete;
    DeviceStream& operator=(const DeviceStream&) = delete;

    cudaStream_t get() const noexcept { return m_stream; }
    /// Waits for everything queued; throws GpuError for a failure of any of it.
    void synchronize() const { LATHE_CUDA_TRY(cudaStreamSynchronize(m_stream)); }

private:
    cudaStream_t m_stream = nullptr;
};

} // namespace lathe::gpu::detail
