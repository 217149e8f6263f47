// Lathe (private to gpu/src): the carry step shared by every segmented scan (the multiband
// detectors' and the limiter's release): each segment's samples are composed into one map
// (lathe/math/Dynamics.h) by one thread a segment; one thread a sequence then applies the maps in
// order. Included by the kernel headers, so the host compiles it too (EmulatedKernelsTest).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/math/Dynamics.h>

#include <cstdint>

namespace lathe::gpu::kernels {
namespace {

/// An exclusive scan of one sequence's segment maps from its state `y`: start[g] is the state
/// before segment g. Returns the state after the last segment.
template <typename Map>
__device__ double carrySegments(const Map* maps, std::int64_t segments, double y, double* start) {
#if defined(__CUDACC__) // (the host compiles this file too: tests/parity/EmulatedKernelsTest)
#pragma unroll 8        // the loads of several segments in flight: the chain is only through y
#endif
    for (std::int64_t g = 0; g < segments; ++g) {
        start[g] = y;
        y = math::apply(maps[g], y);
    }
    return y;
}

} // namespace
} // namespace lathe::gpu::kernels
