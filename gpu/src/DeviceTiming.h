// Lathe (private to gpu/src): where device time goes, measured with CUDA events.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Every synchronous device call (a block's statistics, a loudness chunk, a convolver call) marks
// the ends of its phases on its stream: copies in, kernels (cuFFT's included), copies out. After
// the call has synchronised, the intervals between marks are added to the backend's totals, which
// its convolvers share (Backend::deviceTiming). Events are recorded on the stream, so the figures
// are device time, not host time around the calls.
#pragma once

#include "CudaCheck.h"

#include <lathe/Backend.h>

#include <cuda_runtime_api.h>

#include <array>
#include <cstddef>
#include <mutex>

namespace lathe::gpu::detail {

enum class Phase { HostToDevice, Kernels, DeviceToHost };

/// The totals of one backend and its convolvers (any thread).
class TimingTotals {
public:
    void add(Phase p, double seconds, std::size_t bytes) {
        const std::lock_guard lock(m_mutex);
        switch (p) {
        case Phase::HostToDevice:
            m_t.hostToDeviceSeconds += seconds;
            m_t.hostToDeviceBytes += static_cast<std::int64_t>(bytes);
            break;
        case Phase::Kernels:
            m_t.kernelSeconds += seconds;
            break;
        case Phase::DeviceToHost:
            m_t.deviceToHostSeconds += seconds;
            m_t.deviceToHostBytes += static_cast<std::int64_t>(bytes);
            break;
        }
    }
    DeviceTiming get() const {
        const std::lock_guard lock(m_mutex);
        return m_t;
    }

private:
    mutable std::mutex m_mutex;
    DeviceTiming m_t;
};

/// Marks the phases of one call on `stream`; `finish` (after the stream has synchronised) adds
/// them up. Up to kMarks − 1 phases per call. One PhaseTimer per call and owner at a time.
class PhaseTimer {
public:
    static constexpr int kMarks = 8;

    /// The events an owner (backend, convolver) reuses for every call.
    class Events {
    public:
        Events() {
            for (cudaEvent_t& e : m_events) {
                LATHE_CUDA_TRY(cudaEventCreate(&e));
            }
        }
        ~Events() {
            for (cudaEvent_t e : m_events) {
                cudaEventDestroy(e);
            }
        }
        Events(const Events&) = delete;
        Events& operator=(const Events&) = delete;
        cudaEvent_t operator[](int i) const { return m_events[static_cast<std::size_t>(i)]; }

    private:
        std::array<cudaEvent_t, kMarks> m_events{};
    };

    PhaseTimer(const Events& events, cudaStream_t stream) : m_events(events), m_stream(stream) {
        LATHE_CUDA_TRY(cudaEventRecord(m_events[0], m_stream));
    }

    /// The phase `p` (moving `bytes`) ends here, where the next begins.
    void mark(Phase p, std::size_t bytes = 0) {
        if (m_marks + 1 >= kMarks) {
            return; // a call with more phases than marks: the rest counts in the last one
        }
        ++m_marks;
        m_phase[static_cast<std::size_t>(m_marks)] = p;
        m_bytes[static_cast<std::size_t>(m_marks)] = bytes;
        LATHE_CUDA_TRY(cudaEventRecord(m_events[m_marks], m_stream));
    }

    /// Waits for the last mark and adds every phase to `totals`.
    void finish(TimingTotals& totals) {
        LATHE_CUDA_TRY(cudaEventSynchronize(m_events[m_marks]));
        for (int i = 1; i <= m_marks; ++i) {
            float ms = 0.0f;
            LATHE_CUDA_TRY(cudaEventElapsedTime(&ms, m_events[i - 1], m_events[i]));
            totals.add(m_phase[static_cast<std::size_t>(i)], ms / 1000.0,
                       m_bytes[static_cast<std::size_t>(i)]);
        }
    }

private:
    const Events& m_events;
    cudaStream_t m_stream;
    int m_marks = 0;
    std::array<Phase, kMarks> m_phase{};
    std::array<std::size_t, kMarks> m_bytes{};
};

} // namespace lathe::gpu::detail
