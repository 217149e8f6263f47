// Lathe: per-bin and per-sample math of the convolution stages (shared CPU/GPU).
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Spectra are in split form (real parts and imaginary parts in separate arrays) so that the
// per-bin loops vectorise on the CPU and coalesce on the GPU. The FFT itself is not shared code;
// its conventions are (lathe/Backend.h): R2C of size N gives N/2+1 bins, transforms are unscaled.
#pragma once

#include <lathe/math/Hd.h>

namespace lathe::math {

/// acc += x · h for one complex bin (the spectral multiply-accumulate of partitioned convolution).
/// T is float, or a SIMD vector of floats whose lanes are bins (GCC vector extensions on the CPU):
/// every lane does exactly the float operations below, in this order.
template <typename T> LATHE_HD inline void complexMac(T xRe, T xIm, T hRe, T hIm, T& accRe, T& accIm) {
    accRe += xRe * hRe - xIm * hIm;
    accIm += xRe * hIm + xIm * hRe;
}

/// out = wet + dryGain · dry: a convolution stage's output with its exact (time-domain) dry path.
LATHE_HD inline float mixDry(float wet, float dry, float dryGain) {
    return wet + dryGain * dry;
}

} // namespace lathe::math
