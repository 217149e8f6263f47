// SPDX-License-Identifier: GPL-3.0-or-later
#include "CudaCheck.h"
#include "Kernels.h"

#include <lathe/gpu/Gpu.h>

#include <cuda_runtime_api.h>

#include <sstream>

namespace lathe::gpu {
namespace {

std::string errorText(cudaError_t e) {
    return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
}

ProbeResult runProbe() {
    ProbeResult r;
    r.compiled = true;
    cudaRuntimeGetVersion(&r.runtimeVersion);
    cudaDriverGetVersion(&r.driverVersion); // 0 when no driver is installed

    // Probe before touching cuFFT: without a driver cuFFT only says CUFFT_INTERNAL_ERROR.
    int count = 0; // left untouched on error
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        r.reason = "no CUDA device: " + errorText(e);
        if (e == cudaErrorInsufficientDriver && r.driverVersion > 0) {
            r.reason += "; the driver supports CUDA " + cudaVersionText(r.driverVersion) +
                        ", this build needs " + cudaVersionText(r.runtimeVersion);
        }
        return r;
    }
    if (count <= 0) {
        r.reason = "no CUDA device: none found";
        return r;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp p{};
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
            (void)cudaGetLastError();
            continue;
        }
        DeviceInfo d;
        d.index = i;
        d.name = p.name;
        d.computeMajor = p.major;
        d.computeMinor = p.minor;
        d.totalMemoryBytes = p.totalGlobalMem;
        d.multiprocessors = p.multiProcessorCount;
        std::size_t freeBytes = 0;
        std::size_t totalBytes = 0;
        if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess) {
            d.freeMemoryBytes = freeBytes;
        } else {
            (void)cudaGetLastError();
        }
        r.devices.push_back(d);
    }
    if (r.devices.empty()) {
        r.reason = "no CUDA device: properties could not be read";
        return r;
    }
    // A test launch on device 0 catches a binary built without this architecture.
    if (cudaSetDevice(0) != cudaSuccess) {
        (void)cudaGetLastError();
        r.reason = "device 0 cannot be selected";
        return r;
    }
    int* flag = nullptr;
    cudaError_t le = cudaMalloc(reinterpret_cast<void**>(&flag), sizeof(int));
    if (le == cudaSuccess) {
        le = static_cast<cudaError_t>(kernels::launchProbe(flag));
        int value = 0;
        if (le == cudaSuccess) {
            le = cudaMemcpy(&value, flag, sizeof value, cudaMemcpyDeviceToHost);
        }
        if (le == cudaSuccess && value != 42) {
            r.reason = "the test kernel ran but wrote a wrong value";
            cudaFree(flag);
            return r;
        }
        cudaFree(flag);
    }
    if (le != cudaSuccess) {
        (void)cudaGetLastError();
        const DeviceInfo& d = r.devices.front();
        r.reason = "CUDA device " + d.name + " cannot run Lathe's kernels: " + errorText(le);
        if (le == cudaErrorNoKernelImageForDevice) {
            r.reason += "; rebuild with sm_" + std::to_string(d.computeMajor) +
                        std::to_string(d.computeMinor) + " in CMAKE_CUDA_ARCHITECTURES";
        }
        return r;
    }
    r.available = true;
    return r;
}

} // namespace

const ProbeResult& probe() {
    static const ProbeResult result = runProbe(); // thread-safe one-time initialisation
    return result;
}

} // namespace lathe::gpu
