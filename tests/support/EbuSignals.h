// Lathe tests: the EBU Tech 3341 / 3342 test signals, synthesised as ../shared/reference/loudness.md
// describes (the EBU files themselves may only be used for technical testing and are not in the
// repository). "X dBFS" is each channel's sine peak amplitude; "stereo" is identical L and R;
// s[n] = A·sin(2π·f·n/fs + φ); segments are concatenated without gaps or fades.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "TestSignals.h"

namespace lathe::test::ebu {

/// A piece of a test signal: `seconds` of a stereo sine at `dbfs` (−∞ / < −200 for silence).
struct Segment {
    double seconds;
    double dbfs;
    double hz = 1000.0;
};

/// Concatenated stereo segments at `fs` (phase continuous within a segment, restarting at 0).
Planar stereoSegments(const std::vector<Segment>& segments, SampleRate fs);

/// Tech 3341 case 6: 5.0 channels (L R C Ls Rs) for 20 s: L, R −28 dBFS, C −24, Ls, Rs −30.
Planar fiveChannelCase6(SampleRate fs);

/// True-peak cases 15–19: a stereo sine of `periodFraction`·fs (fs/4, fs/6, fs/8) with peak
/// amplitude `amplitude` and phase `phaseDegrees`, 2 s long with 100 ms raised-cosine fades.
Planar truePeakSine(SampleRate fs, double fsDivisor, double amplitude, double phaseDegrees);

/// True-peak cases 20–23: at 4·fs, a 0.5·sin of 24 samples per period with one 16-sample period of
/// 1.0·sin spliced in at a zero crossing; low-pass at 0.4375·fs (1023 taps, Kaiser β = 12), then
/// every 4th sample from `offset` (0..3). Stereo, 1 s.
Planar truePeakBurst(SampleRate fs, int offset);

} // namespace lathe::test::ebu
