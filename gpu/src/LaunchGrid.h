// Lathe (private to gpu/src): the grid size of every launch, one rule for the launch code and for
// tests/parity/EmulatedKernelsTest, which replays the launches on the host.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>

namespace lathe::gpu::kernels {

/// Blocks of `threads` threads that cover `n` items.
inline unsigned blocksOf(std::int64_t n, int threads) {
    return static_cast<unsigned>((n + threads - 1) / threads);
}

} // namespace lathe::gpu::kernels
