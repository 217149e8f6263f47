// Lathe: second-order IIR sections in double precision (shared CPU/GPU math).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/math/Hd.h>

namespace lathe::math {

/// Coefficients with a0 normalised to 1: y = b0·x + b1·x[-1] + b2·x[-2] − a1·y[-1] − a2·y[-2].
struct BiquadD {
    double b0, b1, b2, a1, a2;
};

/// Transposed direct form II state, of one channel (`T` = double) or of several processed side by
/// side (on the host, `T` a GNU vector of doubles, one channel a lane).
template <class T> struct BiquadStateOf { T s1, s2; };
using BiquadStateD = BiquadStateOf<double>;

/// `T` as a parameter that takes no part in deducing it (a float sample into a double section).
template <class T> struct NotDeduced { using type = T; };

/// One sample through one section (transposed direct form II, double state: near-unit poles at
/// 192 kHz make float states noisy; see ../shared/reference/gpu-and-speed.md §2.1). Over lanes of
/// a vector type it performs, in each lane, exactly the operations it performs on one double.
template <class T>
LATHE_HD_INLINE T biquadTdf2(const BiquadD& c, BiquadStateOf<T>& s, typename NotDeduced<T>::type x) {
    const T y = c.b0 * x + s.s1;
    s.s1 = c.b1 * x - c.a1 * y + s.s2;
    s.s2 = c.b2 * x - c.a2 * y;
    return y;
}

} // namespace lathe::math
