// Lathe tests: every tolerance, named, with the reason it is what it is (STYLE.md rule 9).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

namespace lathe::test {

/// libsoxr's very-high-quality recipe keeps the passband flat to ±0.01 dB (SOXR_ROLLOFF_SMALL);
/// the issue asks for exactly that bound from 20 Hz to 20 kHz.
inline constexpr double kSrcPassbandDb = 0.01;

/// SRC residual (everything that is not the input tone: images, aliases, noise) relative to the
/// tone. libsoxr's very-high-quality (28-bit) recipe measures −150 dB here, the float32 floor of
/// the samples themselves; its 20-bit "high quality" recipe measures −131 dB. −140 dB therefore
/// proves the very-high-quality path is the one in use, with 10 dB of margin.
inline constexpr double kSrcResidualDb = -140.0;

/// Alias rejection when downsampling: a tone above the output Nyquist must vanish. Measured with
/// the VHQ recipe: −157 dB (23 kHz, 96→44.1 kHz); the 20-bit recipe leaks −136 dB. Same margin.
inline constexpr double kSrcAliasRejectionDb = -145.0;

/// Timing of resampled output: libsoxr removes its filter delay, so a fitted sine's phase must
/// match the input's (measured: ≤ 2e-8 rad). One sample of delay at the lowest tested tone (20 Hz
/// at 96 kHz) is 1.3e-3 rad, so 1e-4 rad catches any misalignment of a sample or more.
inline constexpr double kSrcPhaseRad = 1e-4;

/// TPDF dither at ±1 LSB plus rounding gives an error RMS of exactly LSB/2 (variance 1/4 LSB²):
/// −96.33 dBFS at 16 bits. The issue allows ±0.5 dB; the statistical spread over 2^20 samples is
/// about ±0.01 dB, so this bound cannot be met by a wrong dither (e.g. RPDF: −101.1 dBFS).
inline constexpr double kDitherRmsToleranceDb = 0.5;

/// "Level-independent": the error RMS at different signal levels may differ only by sampling
/// noise (±0.01 dB at 2^20 samples); 0.1 dB still rejects signal-dependent quantisation error
/// (undithered rounding varies by several dB between a −60 dBFS tone and a DC level).
inline constexpr double kDitherLevelSpreadDb = 0.1;

/// Noise-shaped dither: measured autocorrelation of the output error (LSB²) at lags 0…3 against
/// the closed form. Over 2^20 samples an estimate's standard error is about r0·√(Σρ²/N) ≈
/// 1.15·√(3/10^6) ≈ 0.002 LSB²; 0.01 is five of them.
inline constexpr double kShapedAutocorrelationLsb2 = 0.01;

/// Sums in statistics depend on addition order between backends: relative 1e-12 is 10 000 double
/// ulps, enough for ~2^20-term sums in any order, and tiny next to anything reported (dB with 2 decimals).
inline constexpr double kStatsSumRelative = 1e-12;
/// K-weighting in segments with carried states (math::carryKWeighting) against one sequential
/// pass: each carry is a 4×4 product (a few double roundings, 1e-16 relative), and the high-pass
/// pole (radius 0.99) lets an error persist for a few hundred samples, so the outputs agree to
/// about 1e-14 of the signal's peak. 1e-12 keeps margin; a wrong matrix element or a state carried
/// into the wrong segment is off by 1e-3 or more.
inline constexpr double kKWeightingScanRelative = 1e-12;

} // namespace lathe::test

namespace lathe::test {

/// EBU Tech 3341 tolerances (the published conformance limits; our float64-designed meter is
/// expected well inside them, but these are the bounds a meter must meet).
inline constexpr double kEbuLoudnessLu = 0.1;      ///< M, S, I: ±0.1 LU
inline constexpr double kEbuTruePeakAboveDb = 0.2; ///< TP: +0.2 dB …
inline constexpr double kEbuTruePeakBelowDb = 0.4; ///< … −0.4 dB
/// EBU Tech 3342: LRA ±1 LU.
inline constexpr double kEbuLraLu = 1.0;

/// libebur128 as an oracle (issue 4): integrated within 0.02 LU (both implement the same
/// filters and gates; differences are rounding and the strict vs non-strict gate comparison) and
/// LRA within 0.1 LU on programmes whose level changes slowly compared with libebur128's 1 s LRA
/// step (ours steps 100 ms as Tech 3342 now requires).
inline constexpr double kOracleIntegratedLu = 0.02;
inline constexpr double kOracleLraLu = 0.1;
/// True peak against a naive ×16 double-precision oversampler (64-tap Kaiser sinc per phase).
inline constexpr double kTruePeakVsReferenceDb = 0.1;

/// Measuring in independent chunks (with warm-up) equals one pass: the K-weighting filters settle
/// to 1e-12 over the 250 ms warm-up, far below 1e-6 LU.
inline constexpr double kChunkIndependenceLu = 1e-6;

/// The same programme at any supported rate reads within 0.1 LU of its 48 kHz value (issue 4).
inline constexpr double kRateIndependenceLu = 0.1;

} // namespace lathe::test

namespace lathe::test {

/// Partitioned convolution vs a direct double-precision convolution (issue 6): float32 FFTs of
/// 2·8192 points add ~1e-7 relative rounding per block, about −135 dB RMS; −110 dB is the bound
/// the issue sets and leaves room for 1M-tap sums without hiding a wrong partition (which is 0 dB).
inline constexpr double kConvolutionRelativeRmsDb = -110.0;
/// Largest single-sample error for signals of unit-energy IRs and |x| ≤ 1 (issue 6).
inline constexpr double kConvolutionMaxAbs = 1e-5;

} // namespace lathe::test

namespace lathe::test {

/// A linear-phase FIR is symmetric by construction (issue 6 asks for 1e-12).
inline constexpr double kFirSymmetry = 1e-12;

} // namespace lathe::test

namespace lathe::test {

/// "Nulls" (issue 6): a 0 dB EQ or the transparent chain leaves a difference ≤ −120 dB relative to
/// the input. Float convolution rounding measures about −135 dB.
inline constexpr double kNullDb = -120.0;

} // namespace lathe::test

namespace lathe::test {

/// Convolution on another backend vs the CPU reference: each is within float FFT rounding
/// (≈ −130 dB) of the exact result, so their difference is bounded by the same −110 dB as the
/// reference against a double-precision direct convolution.
inline constexpr double kConvolutionParityDb = -110.0;
/// …and sample by sample (issue 8): at signal levels near full scale a float's ulp is 6e-8 and FFT
/// rounding over 2·8192 points is a few ulps per sample; 1e-5 (−100 dBFS) rejects any misplaced
/// block or partition (whose error is the size of the signal) with three orders of margin.
inline constexpr double kConvolutionParityMaxAbs = 1e-5;
/// An impulse through a pure delay by FFT convolution: every other output sample is float
/// rounding of a 32-point transform of a value ≤ 0.5 (≈ 1e-8); 1e-6 still tells the impulse
/// (0.25–0.5) from a neighbour by five orders of magnitude.
inline constexpr double kImpulseNeighbourAbs = 1e-6;
/// Loudness records on another backend vs the reference: the CUDA backend K-weights a chunk in
/// segments with carried states (math::carryKWeighting: outputs within 1e-14 of one pass, see
/// kKWeightingScanRelative), and the sums agree to double rounding (1e-15; fused multiply-adds
/// included). 1e-9 relative per sub-block keeps margin while a
/// wrong coefficient, offset or sub-block is off by more than 1e-3. (0.01 LU, the bound
/// on loudness, is a relative energy of 2.3e-3.)
inline constexpr double kLoudnessEnergyParityRelative = 1e-9;
/// A mono file counted twice (dual mono) against once: every block's energy doubles, so the gates
/// pass the same blocks and the integrated loudness moves by 10·log10(2) up to double rounding
/// (1e-14 LU); 1e-9 LU leaves margin while a gate or count that differed would be off by far more.
inline constexpr double kDualMonoOffsetLu = 1e-9;
/// True peak on another backend (issue 8): 0.02 dB, the bound. The search and the ×16
/// values are the same float expressions, but nvcc fuses a·b + c into one rounding by default
/// (LATHE_CUDA_NO_FMAD turns that off), which moves a value by an ulp or two (1e-6 dB). Both
/// refine every candidate (the reference's former "largest first, stop early" missed one whose
/// ±3 points reach past the step's edge: 1.3 dB on an H200, the first time this test ran there).
inline constexpr double kTruePeakParityDb = 0.02;
/// Loudness figures (integrated, LRA, momentary and short-term values) on another backend: 0.01 LU,
/// the bound. The records agree to 1e-9 relative (kLoudnessEnergyParityRelative), which
/// is 4e-9 LU, so anything near the bound is a real difference (a wrong sub-block or weight).
inline constexpr double kLoudnessParityLu = 0.01;
/// A dynamics stage's report figures (mean gain, largest reduction, the 100 ms history, in dB) on
/// another backend: the gains follow the levels of the crossover's float band signals, which agree
/// with the reference's to the convolution's FFT rounding (kConvolutionParityDb: −110 dB, a
/// relative 3e-6, i.e. 2.7e-5 dB in a level), and a gain changes by at most as many dB as its
/// level. 1e-4 dB; a wrong band, step or state is off by 0.01 dB or more. (A first bound of 1e-6 dB
/// assumed the levels agree to double rounding; the first GPU run showed 1.04e-6 dB, FFT rounding.)
inline constexpr double kDynamicsReportParityDb = 1e-4;
/// The same figures from the CUDA kernels run on the host (tests/parity/EmulatedKernelsTest):
/// identical samples, so only the scans' carried detector states (double rounding, 1e-16
/// relative) and the sums' order differ: 1e-13 dB was seen, 1e-10 dB keeps margin.
inline constexpr double kEmulatedReportDb = 1e-10;
/// A loudness (LUFS) or a drive derived from one (dB) measured by the kernels on the host vs the
/// reference: the records agree to kLoudnessEnergyParityRelative (1e-9), i.e. 4.3e-9 LU.
inline constexpr double kEmulatedLoudnessLu = 1e-8;
/// The limiter's pass from the CUDA kernels run on the host vs LimiterStage's own: the same float
/// ×4 peaks, but the release is a scan (its segments start from composed maps, which differ from
/// the sequential recursion by double rounding) and the attack mean adds its window in another
/// order, so G may differ in its last bits, and the float gain 10^(−G/20) then by one ulp (6e-8
/// relative) where a rounding boundary falls between. On inputs ≤ 2 (+6 dB of drive on full
/// scale) that is 2.4e-7 a sample, y's own rounding 1.2e-7 more: 1e-6 holds with margin, while a
/// frame out of place, a window one short or a lost state is off by 1e-3 or more.
inline constexpr double kEmulatedLimiterMaxAbs = 1e-6;
/// Spectra on another backend (issue 8): relative L2 ≤ 1e-5 over every curve and bin (and over
/// the spectrogram's cells as powers). Single-precision FFTs of 16384 points differ from each
/// other by float rounding, about 1e-7 of the frame's energy; a wrong window, scale, bin or frame
/// is off by 1e-2 or more.
inline constexpr double kSpectrumParityRelativeL2 = 1e-5;
/// The limiter's report figures (largest and mean reduction, the 100 ms history, dB) from the pass
/// on a GPU vs the reference: nvcc fuses the ×4 interpolation's 24 multiply-adds, and each of the
/// two sums rounds by up to half an ulp (6e-8) of a partial sum bounded by Σ|c|·max|x| (Σ|c| is
/// 2.25 for the ×4 kernel), about twice the peak: at worst 24 × 6e-8 × 2.25 = 3.2e-6 relative on a
/// peak, 2.8e-5 dB on the attenuation (typically a fifth of it). 1e-4 dB keeps over 3× margin on
/// the worst case; a wrong window, frame or state is off by 0.01 dB or more.
inline constexpr double kLimiterReportParityDb = 1e-4;

} // namespace lathe::test
