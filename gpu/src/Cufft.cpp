// SPDX-License-Identifier: GPL-3.0-or-later
#include "Cufft.h"

#include "CudaCheck.h"

#include <dlfcn.h>
#include <mutex>
#include <string>

namespace lathe::gpu::detail {
namespace {

template <typename F> void bind(void* lib, const char* name, F& fn) {
    fn = reinterpret_cast<F>(dlsym(lib, name));
    if (fn == nullptr) {
        throw GpuError(std::string("dlsym(") + name + ")", "missing symbol", "libcufft lacks it", __FILE__,
                       __LINE__);
    }
}

CufftApi load() {
    void* lib = nullptr;
    std::string why;
    // The soname first (what the toolkit installs), then the development link.
    for (const char* name : {"libcufft.so.12", "libcufft.so"}) {
        lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (lib != nullptr) {
            break;
        }
        const char* e = dlerror();
        why = e != nullptr ? e : name;
    }
    if (lib == nullptr) {
        throw GpuError("dlopen(libcufft.so.12)", "not found", why + "; install the CUDA toolkit's cuFFT",
                       __FILE__, __LINE__);
    }
    // Never dlclose()d: plans may be destroyed during static destruction.
    CufftApi api{};
    bind(lib, "cufftGetVersion", api.getVersion);
    bind(lib, "cufftCreate", api.create);
    bind(lib, "cufftMakePlanMany", api.makePlanMany);
    bind(lib, "cufftSetStream", api.setStream);
    bind(lib, "cufftSetAutoAllocation", api.setAutoAllocation);
    bind(lib, "cufftSetWorkArea", api.setWorkArea);
    bind(lib, "cufftExecR2C", api.execR2C);
    bind(lib, "cufftExecC2R", api.execC2R);
    bind(lib, "cufftDestroy", api.destroy);
    return api;
}

} // namespace

const CufftApi& cufft() {
    // A failed load is retried on the next call (std::call_once rethrows and stays unset).
    static std::once_flag once;
    static CufftApi api{};
    std::call_once(once, [] { api = load(); });
    return api;
}

const char* cufftResultName(cufftResult r) {
    switch (r) {
    case CUFFT_SUCCESS:
        return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN:
        return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED:
        return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE:
        return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE:
        return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR:
        return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED:
        return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED:
        return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE:
        return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA:
        return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE:
        return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE:
        return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED:
        return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED:
        return "CUFFT_NOT_SUPPORTED";
    default:
        return "CUFFT_ERROR";
    }
}

void throwCufftError(cufftResult r, const char* call, const char* file, int line) {
    (void)cudaGetLastError(); // a failed exec may leave a sticky launch error behind
    const char* detail = r == CUFFT_ALLOC_FAILED ? "cuFFT could not allocate device memory" : "cuFFT failed";
    throw GpuError(call, cufftResultName(r), detail, file, line);
}

CufftPlan::CufftPlan(int n, int batch, cufftType type, cudaStream_t stream) {
    const CufftApi& api = cufft();
    LATHE_CUFFT_TRY(api.create(&m_plan));
    try {
        const bool forward = type == CUFFT_R2C;
        const int bins = n / 2 + 1;
        int size[1] = {n};
        int real[1] = {n};
        int complex[1] = {bins};
        std::size_t work = 0;
        // Same fault hook as cudaMalloc: a plan's work area is the allocation most likely to fail.
        if (injectedFault(FaultSite::Malloc) != cudaSuccess) {
            throwCufftError(CUFFT_ALLOC_FAILED, "cufftMakePlanMany (injected)", __FILE__, __LINE__);
        }
        // The work area comes from a CufftWorkArea (shared between plans), not from cuFFT.
        LATHE_CUFFT_TRY(api.setAutoAllocation(m_plan, 0));
        LATHE_CUFFT_TRY(api.makePlanMany(m_plan, 1, size, forward ? real : complex, 1, forward ? n : bins,
                                         forward ? complex : real, 1, forward ? bins : n, type, batch,
                                         &work));
        LATHE_CUFFT_TRY(api.setStream(m_plan, stream));
        m_workBytes = work;
    } catch (...) {
        api.destroy(m_plan);
        throw;
    }
    m_valid = true;
}

CufftPlan::~CufftPlan() {
    if (m_valid) {
        cufft().destroy(m_plan);
    }
}

void CufftWorkArea::share(std::initializer_list<const CufftPlan*> plans) {
    shareAll(plans);
}

void CufftWorkArea::grow(std::size_t bytes) {
    m_bytes.reserve(bytes); // keeps the area when it is large enough
}

void CufftWorkArea::give(const CufftPlan& plan) const {
    if (plan.workBytes() > 0) {
        LATHE_CUFFT_TRY(cufft().setWorkArea(plan.get(), m_bytes.get()));
    }
}

} // namespace lathe::gpu::detail
