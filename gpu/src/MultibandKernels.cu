// SPDX-License-Identifier: GPL-3.0-or-later
// The multiband dynamics on the device: the operations of MultibandStage::combine (the reference)
// in the same order, per sample the same lathe/math expressions, with the three recursions (RMS
// mean square, release, attack) evaluated as scans over segments (see MultibandKernels.h).
#include "MultibandKernels.cuh"

#include <lathe/math/Dynamics.h>

#include <cuda_runtime.h>

#include <cmath>

namespace lathe::gpu::kernels {

int launchMultiband(const MultibandLayout& m, void* stream) {
    if (m.frames <= 0) {
        return 0;
    }
    const auto st = static_cast<cudaStream_t>(stream);
    if (m.midSide) {
        encodeMidSideKernel<<<dim3(blocksOf(m.frames, 256), static_cast<unsigned>(m.bands)), 256, 0, st>>>(m);
    }
    if (m.rms) {
        const std::int64_t perChannel = static_cast<std::int64_t>(m.channels) * m.bands;
        rmsComposeKernel<<<blocksOf(perChannel * m.segments, kThreads), kThreads, 0, st>>>(m);
        rmsCarryKernel<<<blocksOf(perChannel, 32), 32, 0, st>>>(m);
        rmsLevelKernel<<<blocksOf(perChannel * m.segments, kThreads), kThreads, 0, st>>>(m);
    }
    const std::int64_t detectors = static_cast<std::int64_t>(m.bands) * m.detectors;
    const unsigned segmentBlocks = blocksOf(detectors * m.segments, kThreads);
    releaseComposeKernel<<<segmentBlocks, kThreads, 0, st>>>(m);
    detectorCarryKernel<math::MaxAffine><<<blocksOf(detectors, 32), 32, 0, st>>>(m, false);
    attackComposeKernel<<<segmentBlocks, kThreads, 0, st>>>(m);
    detectorCarryKernel<math::Affine><<<blocksOf(detectors, 32), 32, 0, st>>>(m, true);
    gainKernel<<<segmentBlocks, kThreads, 0, st>>>(m);
    sumBandsKernel<<<dim3(blocksOf(m.frames, 256), static_cast<unsigned>(m.channels)), 256, 0, st>>>(m);
    return static_cast<int>(cudaGetLastError());
}

int launchMultibandStats(const MultibandLayout& m, std::int64_t outputFrame, std::int64_t historyStep,
                         std::int64_t firstStep, std::int64_t steps, double* sums, double* mins,
                         double* stepMax, void* stream) {
    if (m.frames <= 0) {
        return 0;
    }
    const auto st = static_cast<cudaStream_t>(stream);
    gainStatsKernel<<<static_cast<unsigned>(m.channels * m.bands), kReduceThreads, 0, st>>>(m, sums, mins);
    if (steps > 0) {
        stepReductionKernel<<<dim3(static_cast<unsigned>(steps), static_cast<unsigned>(m.bands)),
                              kReduceThreads, 0, st>>>(m, outputFrame, historyStep, firstStep, steps,
                                                       stepMax);
    }
    return static_cast<int>(cudaGetLastError());
}

} // namespace lathe::gpu::kernels
