// SPDX-License-Identifier: GPL-3.0-or-later
// The limiter's pass on the device: LimiterStage's first pass (the reference) in the same order,
// per sample the same lathe/math expressions, the release as a scan over segments.
#include "LaunchGrid.h"
#include "LimiterKernels.cuh"

#include <cuda_runtime.h>

namespace lathe::gpu::kernels {
namespace {

unsigned limiterBlocks(std::int64_t n) {
    return blocksOf(n, kLimiterThreads);
}

} // namespace

int launchLimiterPass(const LimiterLayout& l, void* stream) {
    if (l.frames <= 0) {
        return 0;
    }
    const auto st = static_cast<cudaStream_t>(stream);
    const std::int64_t L = l.lookahead;
    limiterPeaksKernel<<<limiterBlocks(l.frames + L), kLimiterThreads, 0, st>>>(l);
    limiterAttenuationKernel<<<limiterBlocks(l.frames + L - 1), kLimiterThreads, 0, st>>>(l);
    limiterLookaheadKernel<<<limiterBlocks(l.frames), kLimiterThreads, 0, st>>>(l);
    limiterReleaseComposeKernel<<<limiterBlocks(l.segments), kLimiterThreads, 0, st>>>(l);
    limiterReleaseCarryKernel<<<1, 1, 0, st>>>(l);
    limiterReleaseKernel<<<limiterBlocks(l.segments), kLimiterThreads, 0, st>>>(l);
    limiterGainKernel<<<limiterBlocks(l.frames), kLimiterThreads, 0, st>>>(l);
    if (l.pieces > 0) {
        limiterPieceStatsKernel<<<limiterBlocks(l.pieces), kLimiterThreads, 0, st>>>(l);
    }
    return static_cast<int>(cudaGetLastError());
}

int launchLimiterDrive(const LimiterDriveLayout& d, void* stream) {
    if (d.span <= 0 || d.channels <= 0) {
        return 0;
    }
    const dim3 grid(limiterBlocks(d.span), static_cast<unsigned>(d.channels));
    limiterDriveKernel<<<grid, kLimiterThreads, 0, static_cast<cudaStream_t>(stream)>>>(d);
    return static_cast<int>(cudaGetLastError());
}

} // namespace lathe::gpu::kernels
