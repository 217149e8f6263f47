// Lathe (private to gpu/src): checked CUDA calls that throw lathe::GpuError.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Error.h>

#include <cuda_runtime_api.h>

namespace lathe::gpu::detail {

/// Throws GpuError for a failed call; clears CUDA's sticky "last error" first so that the next
/// call does not report the same failure again (as cuco's CUCO_CUDA_TRY does).
[[noreturn]] inline void throwCudaError(cudaError_t e, const char* call, const char* file, int line) {
    (void)cudaGetLastError();
    throw GpuError(call, cudaGetErrorName(e), cudaGetErrorString(e), file, line);
}

/// Test hook (issue 12's fault injection on a GPU machine): LATHE_TEST_CUDA_FAULT=malloc:N,
/// kernel:N or pinned:N makes the N-th device allocation (cudaErrorMemoryAllocation), kernel launch
/// (cudaErrorLaunchFailure) or page-locked host allocation (cudaErrorMemoryAllocation) of the
/// process fail as the runtime would report it. Unset: no effect.
enum class FaultSite { Malloc, Kernel, HostAlloc };
cudaError_t injectedFault(FaultSite site);

} // namespace lathe::gpu::detail

/// Runs a CUDA runtime call and throws lathe::GpuError (call, error name, file, line) on failure.
#define LATHE_CUDA_TRY(call)                                                                                 \
    do {                                                                                                     \
        const cudaError_t latheCudaStatus_ = (call);                                                         \
        if (latheCudaStatus_ != cudaSuccess) {                                                               \
            ::lathe::gpu::detail::throwCudaError(latheCudaStatus_, #call, __FILE__, __LINE__);               \
        }                                                                                                    \
    } while (false)
