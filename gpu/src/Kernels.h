// Lathe (private to gpu/src): kernel launchers. C++17 and CUDA-type free so that .cpp files compiled
// by g++ can call them; each returns the cudaError_t of its launch as an int (0 = success).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/math/Loudness.h>
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
                math::SampleStats* partials, int blocksPerChannel, void* stream);

/// Replaces NaN/Inf by 0 in place; adds the number replaced to *counter.
int launchSanitize(float* samples, std::int64_t count, unsigned long long* counter, void* stream);

/// Quantises channel-major `samples` into interleaved left-justified codes `out`; adds clipped
/// samples to *clipped.
int launchQuantize(const float* samples, int channels, std::int64_t frames, std::int64_t firstFrame,
                   math::QuantizeParams params, std::int32_t* out, unsigned long long* clipped, void* stream);

// Partitioned convolution (CudaConvolver.cpp). Spectra are interleaved complex floats (re, im),
// `bins` = B + 1 per block; every launcher takes the stream as a void* (a cudaStream_t).

/// Overlap-save input frames: frames[(i·capacity + b)·2B + n] = ext[i·extPitch + b·B + n] for
/// n < 2B, b < count; zeros for count ≤ b < capacity (the batched FFT transforms them too).
int launchGatherFrames(const float* ext, std::int64_t extPitch, int inputs, int blockFrames, int count,
                       int capacity, float* frames, void* stream);

/// ring[(i·ringSlots + (firstBlock + b) mod ringSlots)·bins] ← spectra[(i·capacity + b)·bins], b < count.
int launchScatterSpectra(const float* spectra, int inputs, int capacity, int count, int bins, float* ring,
                         int ringSlots, std::int64_t firstBlock, void* stream);

/// One filter path of the spectral multiply-accumulate.
struct MacPath {
    int input;          ///< input channel
    int firstPartition; ///< its filter's first partition in the filter spectra
    int partitions;     ///< its filter's partitions
};

/// Y[o][b] = Σ over paths of output o (pathStart[o] … pathStart[o+1]−1, in order) of
/// Σ_p X[input][firstBlock + b − p] · H[firstPartition + p], for b < count, every bin; blocks
/// before the first count as zero. Each bin's terms are added in that order with math::complexMac,
/// as the CPU reference does. `paths` and `pathStart` are device arrays.
int launchSpectralMac(const float* ring, int ringSlots, std::int64_t firstBlock, int count, int bins,
                      const float* filters, const MacPath* paths, const int* pathStart, int outputs, float* y,
                      int capacity, void* stream);

/// out[o·outPitch + b·B + n] = frames[(o·capacity + b)·2B + B + n] for n < B, b < count (the last
/// half of each inverse transform).
int launchTakeOutput(const float* frames, int outputs, int blockFrames, int count, int capacity, float* out,
                     std::int64_t outPitch, void* stream);

// Loudness records of one chunk (CudaBackend::measureLoudnessChunk; the reference is
// measureLoudnessChunkCpu). `audio` is channel-major, `pitch` frames per channel: the chunk's
// warm-up, its frames, then the interpolators' look-ahead.
struct LoudnessChunkLayout {
    const float* audio;
    std::int64_t pitch;
    int channels;
    std::int64_t warm;       ///< frames before the chunk's first
    std::int64_t frames;     ///< the chunk's frames
    std::int64_t subFrames;  ///< sub-block length
    std::int64_t subs;       ///< sub-blocks (the last may be partial)
    std::int64_t stepFrames; ///< 100 ms
    std::int64_t steps;
    std::int64_t firstFrame; ///< absolute frame of the chunk's first
};

/// Σ y² of the K-weighted signal per sub-block into energy[c·subs + k] (double), as one pass from
/// the chunk's start at rest (the reference), computed in parallel: segments of `segmentSubs`
/// sub-blocks are filtered from rest, their states carried in order (math::carryKWeighting), and
/// filtered again from their true starts. `states` holds kWeightScanStates(l, segmentSubs).
std::size_t kWeightScanStates(const LoudnessChunkLayout& l, std::int64_t segmentSubs);
int launchKWeightedEnergy(const LoudnessChunkLayout& l, const math::KWeighting& k, std::int64_t segmentSubs,
                          math::KWeightingState* states, double* energy, void* stream);

/// |x| and the ×4 search interpolator's |value| at phases 1..3 of every chunk frame into
/// grid[(c·4 + p)·frames + n] (p = 0: |x| itself). `coeffs`: 4 phases × `taps`, on the device.
int launchSearchGrid(const LoudnessChunkLayout& l, const float* coeffs, int taps, float* grid, void* stream);

/// Per channel and 100 ms step: the sample peak (first largest |x|), and with `truePeak` the
/// largest ×16 value (refine interpolator, 16 phases × `refineTaps`) within ±3 ×16 points of
/// every local maximum of the ×4 grid that lies within `candidateRatio` of the step's ×4
/// maximum, as the reference searches; written to samplePeak/truePeak/truePeakFrame[c·steps + s].
int launchStepPeaks(const LoudnessChunkLayout& l, const float* grid, bool truePeak, float candidateRatio,
                    const float* refineCoeffs, int refineTaps, float* samplePeak, float* truePeakValue,
                    double* truePeakFrame, void* stream);

/// Threads per block used by launchStats (partials per channel are at most this many blocks).
inline constexpr int kStatsThreads = 256;

} // namespace lathe::gpu::kernels
