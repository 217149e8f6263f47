// SPDX-License-Identifier: GPL-3.0-or-later
#include "Fftw.h"

#include <cstring>
#include <new>

namespace lathe::detail {

std::mutex& fftwPlannerMutex() {
    static std::mutex m;
    return m;
}

FftwFloats allocateFloats(std::size_t count) {
    auto* p = static_cast<float*>(fftwf_malloc(sizeof(float) * (count > 0 ? count : 1)));
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    std::memset(p, 0, sizeof(float) * count);
    return FftwFloats(p);
}

} // namespace lathe::detail
