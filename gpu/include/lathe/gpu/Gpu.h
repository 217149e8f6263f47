// Lathe: the CUDA backend's public face. Plain C++: no CUDA types leak out of gpu/src.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Backend.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lathe::gpu {

struct DeviceInfo {
    int index = 0;
    std::string name;
    int computeMajor = 0;
    int computeMinor = 0;
    std::uint64_t totalMemoryBytes = 0;
    std::uint64_t freeMemoryBytes = 0;
    int multiprocessors = 0;
};

/// What the one-time device probe found.
struct ProbeResult {
    bool compiled = false;  ///< this build contains CUDA code (LATHE_ENABLE_CUDA)
    bool available = false; ///< a device answers and runs our kernels
    std::string reason;     ///< why not, e.g. "no CUDA device: cudaErrorInsufficientDriver (CUDA driver
                            ///< version is insufficient for CUDA runtime version)"
    int runtimeVersion = 0; ///< e.g. 13000 for CUDA 13.0
    int driverVersion = 0;  ///< 0 when no driver is installed
    std::vector<DeviceInfo> devices;
};

/// Probes once per process (thread-safe) and caches the result: device count, properties, and a
/// test kernel launch that catches binaries built without the device's architecture. Never throws,
/// never aborts, prints nothing.
const ProbeResult& probe();

/// "CUDA 13.0" style version text from a CUDA version integer (13000 → "13.0").
std::string cudaVersionText(int version);

/// Creates the CUDA backend on `device`. Throws BackendUnavailableError when the probe found no
/// usable device, GpuError when CUDA fails.
std::unique_ptr<Backend> makeCudaBackend(int device = 0);

/// Adds "cuda" (preferred over "cpu" by --backend auto) to a registry.
void registerCudaBackend(BackendRegistry& registry);

} // namespace lathe::gpu
