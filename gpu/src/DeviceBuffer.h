// Lathe (private to gpu/src): RAII device memory, page-locked host memory and streams.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "CudaCheck.h"

#include <lathe/HostMemory.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace lathe::gpu::detail {

/// Bytes held now and at most in this process, by the buffers of one kind.
struct ByteCount {
    std::atomic<std::int64_t> now{0};
    std::atomic<std::int64_t> peak{0};

    void add(std::int64_t delta) noexcept {
        const std::int64_t held = now.fetch_add(delta) + delta;
        std::int64_t most = peak.load();
        while (held > most && !peak.compare_exchange_weak(most, held)) {
        }
    }
};

/// Every DeviceBuffer's bytes (Backend::deviceTiming reports the peak: memory use is bounded by the
/// chunk sizes, not by the file's length), and every page-locked host buffer's.
inline ByteCount g_deviceBytes;
inline ByteCount g_pinnedBytes;

/// Page-locked host memory, the same for every buffer and device (cudaHostAllocPortable), counted
/// in g_pinnedBytes. Stateless: one for the process (pinnedHostMemory()), so a buffer in it may
/// outlive the backend that asked for it.
class PinnedHostMemory final : public HostMemory {
public:
    void* allocate(std::size_t bytes) override {
        void* p = nullptr;
        cudaError_t e = injectedFault(FaultSite::HostAlloc);
        if (e == cudaSuccess) {
            e = cudaHostAlloc(&p, bytes, cudaHostAllocPortable);
        }
        if (e != cudaSuccess) {
            throwCudaError(e, "cudaHostAlloc(&p, bytes, cudaHostAllocPortable)", __FILE__, __LINE__);
        }
        g_pinnedBytes.add(static_cast<std::int64_t>(bytes));
        return p;
    }
    void release(void* p, std::size_t bytes) noexcept override {
        cudaFreeHost(p); // after the runtime has gone (the process's end) the memory goes with it
        g_pinnedBytes.add(-static_cast<std::int64_t>(bytes));
    }
};

/// The process's page-locked host memory.
inline PinnedHostMemory& pinnedHostMemory() {
    static PinnedHostMemory memory;
    return memory;
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
        g_deviceBytes.add(static_cast<std::int64_t>(count * sizeof(T)));
    }

    T* get() const noexcept { return m_ptr; }
    std::size_t size() const noexcept { return m_count; }

private:
    void release() noexcept {
        if (m_ptr != nullptr) {
            cudaFree(m_ptr); // cannot fail meaningfully in a destructor; errors surface on the next call
            g_deviceBytes.add(-static_cast<std::int64_t>(m_count * sizeof(T)));
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
