// Lathe (private to gpu/src): cuFFT, loaded when the CUDA backend first needs it.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// libcufft.so.12 is 286 MB and there is no static cuFFT in CUDA 13 (../shared/reference/
// toolchain.md §2). Linking it would make every `lathe` start map it, and a machine without the
// CUDA libraries could not run even the CPU backend. So it is dlopen()ed on first use: the
// binaries have no load-time dependency on it, and a missing library is a GpuError like any other
// device failure (`--backend auto` then renders on the CPU and says why).
#pragma once

#include "DeviceBuffer.h"

#include <lathe/Error.h>

#include <cuda_runtime_api.h>
#include <cufft.h>

#include <cstddef>
#include <initializer_list>
#include <utility>

namespace lathe::gpu::detail {

/// The cuFFT entry points the backend uses.
struct CufftApi {
    cufftResult (*getVersion)(int*);
    cufftResult (*create)(cufftHandle*);
    cufftResult (*makePlanMany)(cufftHandle, int, int*, int*, int, int, int*, int, int, cufftType, int,
                                std::size_t*);
    cufftResult (*setStream)(cufftHandle, cudaStream_t);
    cufftResult (*setAutoAllocation)(cufftHandle, int);
    cufftResult (*setWorkArea)(cufftHandle, void*);
    cufftResult (*execR2C)(cufftHandle, cufftReal*, cufftComplex*);
    cufftResult (*execC2R)(cufftHandle, cufftComplex*, cufftReal*);
    cufftResult (*destroy)(cufftHandle);
};

/// Loads libcufft once per process (thread-safe). Throws GpuError when it cannot be loaded.
const CufftApi& cufft();

/// "CUFFT_ALLOC_FAILED" style name of a result code.
const char* cufftResultName(cufftResult r);

[[noreturn]] void throwCufftError(cufftResult r, const char* call, const char* file, int line);

/// A batched 1-D real transform plan (R2C or C2R) bound to a stream. Move-only.
///
/// The plan allocates no work area of its own (cuFFT's automatic allocation is off): workBytes()
/// is what it needs, and a CufftWorkArea gives it one before it runs — plans that run one after
/// another share one, sized to the largest, instead of each holding its own.
class CufftPlan {
public:
    CufftPlan() = default;
    /// `batch` transforms of `n` points; real arrays are `n` floats apart, complex ones n/2+1.
    CufftPlan(int n, int batch, cufftType type, cudaStream_t stream);
    ~CufftPlan();
    CufftPlan(CufftPlan&& o) noexcept
        : m_plan(std::exchange(o.m_plan, 0)), m_valid(std::exchange(o.m_valid, false)),
          m_workBytes(std::exchange(o.m_workBytes, 0)) {}
    CufftPlan& operator=(CufftPlan&& o) noexcept {
        std::swap(m_plan, o.m_plan);
        std::swap(m_valid, o.m_valid);
        std::swap(m_workBytes, o.m_workBytes);
        return *this;
    }
    CufftPlan(const CufftPlan&) = delete;
    CufftPlan& operator=(const CufftPlan&) = delete;

    cufftHandle get() const noexcept { return m_plan; }
    /// Bytes of device work area the plan needs while it runs.
    std::size_t workBytes() const noexcept { return m_workBytes; }

private:
    cufftHandle m_plan = 0;
    bool m_valid = false;
    std::size_t m_workBytes = 0;
};

/// One device work area for cuFFT plans that never run at the same time (one stream, or one lock
/// around them). cuFFT's reference asks that a plan's area overlap no other plan's while it runs;
/// transforms queued on one stream never run together, which is how NVIDIA's own MatX shares one
/// area per stream between its plans. Its bytes are Lathe's own buffer, so they count in
/// DeviceTiming::peakBufferBytes.
class CufftWorkArea {
public:
    /// Grows to the largest need of `plans` and gives the area to each of them. Whenever it has to
    /// grow, the area moves: call it with every plan that shares it (and before any of them runs
    /// again). Throws GpuError when the device memory cannot be had.
    void share(std::initializer_list<const CufftPlan*> plans);
    template <typename Range> void shareAll(const Range& plans) {
        for (const CufftPlan* p : plans) {
            grow(p->workBytes());
        }
        for (const CufftPlan* p : plans) {
            give(*p);
        }
    }

private:
    void grow(std::size_t bytes);
    void give(const CufftPlan& plan) const;

    DeviceBuffer<unsigned char> m_bytes;
};

} // namespace lathe::gpu::detail

/// Runs a cuFFT call and throws lathe::GpuError (call, result name, file, line) on failure.
#define LATHE_CUFFT_TRY(call)                                                                                \
    do {                                                                                                     \
        const cufftResult latheCufftStatus_ = (call);                                                        \
        if (latheCufftStatus_ != CUFFT_SUCCESS) {                                                            \
            ::lathe::gpu::detail::throwCufftError(latheCufftStatus_, #call, __FILE__, __LINE__);             \
        }                                                                                                    \
    } while (false)
