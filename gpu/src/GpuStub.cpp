// SPDX-License-Identifier: GPL-3.0-or-later
// Built instead of the CUDA sources when LATHE_ENABLE_CUDA=OFF (the cpu-only preset). The normal
// build always compiles CUDA (README, non-negotiable 2); this exists for machines without nvcc.
#include <lathe/Error.h>
#include <lathe/gpu/Gpu.h>

namespace lathe::gpu {

const ProbeResult& probe() {
    static const ProbeResult result{false, false, "this build has no CUDA support (LATHE_ENABLE_CUDA=OFF)",
                                    0,     0,     {}};
    return result;
}

std::unique_ptr<Backend> makeCudaBackend(int /*device*/) {
    throw BackendUnavailableError("backend 'cuda' is not available: " + probe().reason);
}

void registerCudaBackend(BackendRegistry& registry) {
    registry.add(
        "cuda", 10,
        [] {
            BackendStatus s;
            s.reason = probe().reason;
            return s;
        },
        [] { return makeCudaBackend(0); });
}

} // namespace lathe::gpu
