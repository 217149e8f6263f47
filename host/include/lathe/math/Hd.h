// Lathe: LATHE_HD and the few exactly-rounded helpers shared by g++ and nvcc.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Every header under lathe/math is C++17, includes only <cmath>, <cstdint> and <cstddef>, and holds
// per-sample / per-bin formulas as `LATHE_HD inline` functions over PODs. CpuBackend calls them in
// loops; the CUDA kernels in gpu/src call the same functions (STYLE.md, "One set of math").
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define LATHE_HD __host__ __device__
#else
#define LATHE_HD
#endif

/// LATHE_HD, always inlined: for the small helpers (log2Poly, exp2Poly, …) that CPU loops call per
/// sample. A call left out of line stops GCC's vectoriser (a call "clobbers memory"), and whether
/// GCC inlines them of its own accord differs between the target_clones versions of one loop (the
/// compressor's band gains ran scalar in the AVX2 version, with a call to exp2Poly per sample).
/// Inlining changes no operation and no order: the results are the same to the bit.
#if defined(__CUDACC__)
#define LATHE_HD_INLINE __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define LATHE_HD_INLINE [[gnu::always_inline]] inline
#else
#define LATHE_HD_INLINE inline
#endif

namespace lathe::math {

// nvcc contracts a*b+c into one FMA by default, g++ (x86-64 baseline, -ffp-contract=off) does not.
// Where a result must be bit-identical on both backends (integer quantisation, for example), write
// the arithmetic with these explicitly rounded operations: on the device they compile to the
// non-contractible __dmul_rn/__dadd_rn intrinsics, on the host to the plain IEEE operators.
LATHE_HD inline double mulRn(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}

LATHE_HD inline double addRn(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}

/// True when x is neither NaN nor ±Inf. Written without std::isfinite so that it behaves the same
/// in device code and is not folded away by any optimisation level.
LATHE_HD inline bool isFiniteSample(float x) {
    return (x - x) == (x - x); // NaN and ±Inf give NaN here, every finite value gives 0
}

} // namespace lathe::math
