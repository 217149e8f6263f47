// SPDX-License-Identifier: GPL-3.0-or-later
// Kernels are thin wrappers over lathe/math: every per-sample formula is the one the CPU backend
// runs (STYLE.md "One set of math for both backends").
#include "Kernels.h"

#include <lathe/math/Quantize.h>
#include <lathe/math/SampleStats.h>

#include <cuda_runtime.h>

namespace lathe::gpu::kernels {
namespace {

__global__ void probeKernel(int* flag) {
    *flag = 42;
}

__global__ void statsKernel(const float* samples, std::int64_t frames, std::int64_t firstFrame,
                            math::SampleStats* partials) {
    __shared__ math::SampleStats shared[kStatsThreads];
    const int channel = blockIdx.y;
    const float* x = samples + static_cast<std::int64_t>(channel) * frames;
    const std::int64_t perBlock = (frames + gridDim.x - 1) / gridDim.x;
    const std::int64_t begin = static_cast<std::int64_t>(blockIdx.x) * perBlock;
    const std::int64_t end = begin + perBlock < frames ? begin + perBlock : frames;

    math::SampleStats s = math::emptyStats();
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
        math::accumulateSample(s, x[i], firstFrame + i);
    }
    shared[threadIdx.x] = s;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (static_cast<int>(threadIdx.x) < stride) {
            shared[threadIdx.x] = math::combineStats(shared[threadIdx.x], shared[threadIdx.x + stride]);
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        partials[static_cast<std::int64_t>(channel) * gridDim.x + blockIdx.x] = shared[0];
    }
}

__global__ void sanitizeKernel(float* samples, std::int64_t count, unsigned long long* counter) {
    const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < count && !math::isFiniteSample(samples[i])) {
        samples[i] = 0.0f;
        atomicAdd(counter, 1ull);
    }
}

__global__ void quantizeKernel(const float* samples, int channels, std::int64_t frames,
                               std::int64_t firstFrame, math::QuantizeParams params, std::int32_t* out,
                               unsigned long long* clipped) {
    // One thread per output sample, in interleaved order so that the stores coalesce.
    const std::int64_t k = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (k >= frames * channels) {
        return;
    }
    const std::int64_t frame = k / channels;
    const int channel = static_cast<int>(k - frame * channels);
    const math::QuantizedSample q = math::quantizeSample(
        samples[static_cast<std::int64_t>(channel) * frames + frame], params,
        static_cast<std::uint32_t>(channel), static_cast<std::uint64_t>(firstFrame + frame));
    out[k] = q.leftJustified;
    if (q.clipped) {
        atomicAdd(clipped, 1ull);
    }
}

unsigned blocksFor(std::int64_t n, int threads) {
    return static_cast<unsigned>((n + threads - 1) / threads);
}

} // namespace

int launchProbe(int* deviceFlag) {
    probeKernel<<<1, 1>>>(deviceFlag);
    return static_cast<int>(cudaGetLastError());
}

int launchStats(const float* samples, int channels, std::int64_t frames, std::int64_t firstFrame,
                math::SampleStats* partials, int blocksPerChannel) {
    if (frames <= 0 || channels <= 0) {
        return 0;
    }
    const dim3 grid(static_cast<unsigned>(blocksPerChannel), static_cast<unsigned>(channels));
    statsKernel<<<grid, kStatsThreads>>>(samples, frames, firstFrame, partials);
    return static_cast<int>(cudaGetLastError());
}

int launchSanitize(float* samples, std::int64_t count, unsigned long long* counter) {
    if (count <= 0) {
        return 0;
    }
    sanitizeKernel<<<blocksFor(count, 256), 256>>>(samples, count, counter);
    return static_cast<int>(cudaGetLastError());
}

int launchQuantize(const float* samples, int channels, std::int64_t frames, std::int64_t firstFrame,
                   math::QuantizeParams params, std::int32_t* out, unsigned long long* clipped) {
    if (frames <= 0 || channels <= 0) {
        return 0;
    }
    quantizeKernel<<<blocksFor(frames * channels, 256), 256>>>(samples, channels, frames, firstFrame, params,
                                                               out, clipped);
    return static_cast<int>(cudaGetLastError());
}

} // namespace lathe::gpu::kernels
