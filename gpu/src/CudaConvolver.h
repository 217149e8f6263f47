// Lathe (private to gpu/src): the CUDA partitioned convolver (lathe/Convolution.h).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Convolution.h>

#include <memory>

namespace lathe::gpu::detail {

/// Uniformly partitioned overlap-save on cuFFT, the same partitions, block size and per-bin
/// multiply-accumulate order as the CPU reference. Throws UsageError for a malformed matrix,
/// GpuError when CUDA or cuFFT fails.
std::unique_ptr<Convolver> makeCudaConvolver(const FilterMatrix& matrix, const ConvolverOptions& options,
                                             int device);

} // namespace lathe::gpu::detail
