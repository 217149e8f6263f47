// SPDX-License-Identifier: GPL-3.0-or-later
// Parts of the GPU face that do not need CUDA (built with and without LATHE_ENABLE_CUDA).
#include <lathe/gpu/Gpu.h>

namespace lathe::gpu {

std::string cudaVersionText(int version) {
    return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

} // namespace lathe::gpu
