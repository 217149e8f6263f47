// Lathe (private): compiling a hot loop for AVX-512 and AVX2 as well as baseline x86-64.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// LATHE_TARGET_CLONES before a function compiles it three times, for AVX-512F, AVX2 and baseline
// x86-64, and picks one when the program loads (GCC function multi-versioning). All versions perform the same
// IEEE operations in the same order — vectorisation maps independent lanes, never reassociates
// (no -ffast-math), and -ffp-contract=off forbids FMA — so the result does not depend on the CPU.
// Off under sanitizers (their instrumentation and ifunc resolvers do not mix) and other compilers.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
#define LATHE_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LATHE_TARGET_CLONES
#endif
