// Lathe (private to gpu/src): the CUDA partitioned convolver (lathe/Convolution.h).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Convolution.h>

#include <memory>

namespace lathe::gpu::detail {

class TimingTotals;

/// Uniformly partitioned overlap-save on cuFFT, the same partitions, block size and per-bin
/// multiply-accumulate order as the CPU reference. Throws UsageError for a malformed matrix,
/// GpuError when CUDA or cuFFT fails.
/// Its calls' device time is added to `timing` (the backend's).
std::unique_ptr<Convolver> makeCudaConvolver(const FilterMatrix& matrix, const ConvolverOptions& options,
                                             int device, std::shared_ptr<TimingTotals> timing);

/// The output of `convolver`'s last process() call of `frames` frames, left on the device
/// (ConvolverOptions::outputOnDevice): [output][frames] floats, pitch `frames`. Valid until its
/// next call. Throws Error(Internal) for any other convolver or call.
const float* residentOutput(const Convolver& convolver, Frames frames);

} // namespace lathe::gpu::detail
