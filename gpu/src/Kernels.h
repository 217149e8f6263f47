// Lathe (private to gpu/src): kernel launchers. C++17 and CUDA-type free so that .cpp files compiled
// by g++ can call them; each returns the cudaError_t of its launch as an int (0 = success).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/math/Quantize.h>
#include <lathe/math/SampleStats.h>

#include <cstdint>

namespace lathe::gpu::kernels {

/// Launches a one-thread kernel that writes 42 to *flag; used by the probe to prove that this binary
/// carries code for the device's architecture.
int launchProbe(int* deviceFlag);

/// Per-channel statistics. `samples` is channel-major with `frames` per channel; writes
/// `blocksPerChannel` partial results per channel to `partials` (channel-major).
int launchStats(const float* samples, int channels, std::int64_t frames, std::int64_t firstFrame,
                math::SampleStats* partials, int blocksPerChannel);

/// Replaces NaN/Inf by 0 in place; adds the number replaced to *counter.
int launchSanitize(float* samples, std::int64_t count, unsigned long long* counter);

/// Quantises channel-major `samples` into interleaved left-justified codes `out`; adds clipped
/// samples to *clipped.
int launchQuantize(const float* samples, int channels, std::int64_t frames, std::int64_t firstFrame,
                   math::QuantizeParams params, std::int32_t* out, unsigned long long* clipped);

/// Threads per block used by launchStats (partials per channel are at most this many blocks).
inline constexpr int kStatsThreads = 256;

} // namespace lathe::gpu::kernels
