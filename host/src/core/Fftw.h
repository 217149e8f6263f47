// Lathe (private): FFTW helpers shared by the engine's FFT users.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <fftw3.h>

#include <cstddef>
#include <memory>
#include <mutex>

namespace lathe::detail {

/// FFTW's planner is one global state and not thread-safe; executing plans is. Every plan in
/// Lathe is made and destroyed under this lock (the only process-wide mutable state the engine
/// touches).
std::mutex& fftwPlannerMutex();

struct FftwFree {
    void operator()(void* p) const noexcept { fftwf_free(p); }
};

/// SIMD-aligned float storage from fftwf_malloc (what FFTW's new-array execute functions need).
using FftwFloats = std::unique_ptr<float[], FftwFree>;

/// `count` floats, zero-initialised. Throws std::bad_alloc.
FftwFloats allocateFloats(std::size_t count);

} // namespace lathe::detail
