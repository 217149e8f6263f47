// Lathe (private): the CPU backend's per-sample loops, for code that shares a block's frames out
// across threads itself (the render's sink) — one implementation, the reference's.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/math/Quantize.h>
#include <lathe/math/SampleStats.h>

#include <cstdint>

namespace lathe::detail {

/// The largest |x[i]| of `n` samples, as the bits of |x[i]| (for non-negative floats the integer
/// order is the value order, and every NaN/Inf is >= 0x7f800000), and the first i at which it
/// occurs: -1 when `n` is 0 or every sample is ±0 (bits 0). Equal to a scan that keeps the first
/// strictly larger value.
struct PeakBits {
    std::uint32_t bits = 0;
    Frames first = -1;
};
PeakBits peakBits(const float* x, Frames n);

/// Statistics of `n` samples of one channel whose first is frame `firstFrame`: math::accumulateSample
/// over them (peak, its first position and every count exactly; the sums in a fixed order of
/// their own, the same on every CPU).
math::SampleStats blockStats(const float* x, Frames n, Frames firstFrame);

/// Quantises frames [from, from + count) of `block`, whose frame 0 is stream frame `firstFrame`,
/// into `out` (interleaved, left-justified codes; out[0] is frame `from`'s first channel).
/// Returns how many samples clipped.
Frames quantizeFrames(const AudioBuffer& block, Frames from, Frames count, Frames firstFrame,
                      const math::QuantizeParams& params, std::int32_t* out);

/// out[n] = Σ_i c[i]·base[n + i] for n in [0, count): one phase of the true-peak search's ×4
/// interpolation, each output equal to math::interpolateAt over the same taps exactly.
void firPhase(const float* base, const float* c, int taps, Frames count, float* out);

} // namespace lathe::detail
