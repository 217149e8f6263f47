// Lathe (private to gpu/src): the multiband dynamics on the device (CudaBackend::multibandDynamics;
// the reference is MultibandStage::combine). C++17 and CUDA-type free, like Kernels.h.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/MultibandKernel.h>
#include <lathe/math/Dynamics.h>

#include <cstddef>
#include <cstdint>

namespace lathe::gpu::kernels {

/// One call's device memory and geometry. Signals are [c·bands + k][frames] (band k of channel c).
/// The detectors are sequences (band k, detector d): d < detectors, which is 1 for a fully linked
/// stereo pair (one detector on the louder channel serves both) and the channel count otherwise.
/// Every recursion (RMS mean square, release, attack) is evaluated as a scan over segments of
/// `segment` frames: each segment's samples composed into one map (lathe/math/Dynamics.h),
/// the maps carried in order from the state, the segment filtered again from its true start.
struct MultibandLayout {
    int channels;
    int bands;
    int detectors;
    std::int64_t frames;
    std::int64_t segment;  ///< frames per scan segment
    std::int64_t segments; ///< per sequence
    bool rms;
    bool midSide;
    double link;
    double aRms;
    const MultibandBandParams* band; ///< [bands]
    const float* x;                  ///< the crossover's outputs
    float* encoded;                  ///< mid/side: the bands as M and S (what detectors and gains see)
    double* level;                   ///< RMS levels (RMS detector only)
    void* maps;                      ///< per (sequence, segment): one map (the largest, MaxAffine)
    double* start;                   ///< per (sequence, segment): the carried state at its start
    double* start2;                  ///< the same for the second recursion (attack)
    BandDetectorState* state;        ///< [c·bands + k]: read at the start, written at the end
    double* gainDb;                  ///< per channel and band sample
    float* bandOut;                  ///< per channel and band sample, after its gain
    float* out;                      ///< [c][frames]: the sum of the bands
};

/// Bytes of the maps buffer and doubles of each start buffer for a layout's geometry: one per
/// segment of the longer of the sequence kinds (per channel and band, per band and detector).
/// Inline: the kernels' host emulation (tests/parity) links without the .cu files.
inline std::size_t multibandStartCount(const MultibandLayout& m) {
    const std::int64_t perChannel = static_cast<std::int64_t>(m.channels) * m.bands;
    const std::int64_t perDetector = static_cast<std::int64_t>(m.bands) * m.detectors;
    return static_cast<std::size_t>((perChannel > perDetector ? perChannel : perDetector) * m.segments);
}
inline std::size_t multibandMapBytes(const MultibandLayout& m) {
    return multibandStartCount(m) * sizeof(math::MaxAffine);
}

/// Encodes mid/side (when set), runs the detectors, gains and band sum for the call.
int launchMultiband(const MultibandLayout& m, void* stream);

/// Per (c, k) of active bands: Σ gain dB and the smallest gain dB into sums/mins[c·bands + k];
/// per active band and 100 ms history step w = firstStep … firstStep + steps − 1 (output frames
/// w·historyStep …, the call's frame 0 at `outputFrame`), the largest reduction (makeup − gain,
/// over channels, ≥ 0) into stepMax[k·steps + w − firstStep].
int launchMultibandStats(const MultibandLayout& m, std::int64_t outputFrame, std::int64_t historyStep,
                         std::int64_t firstStep, std::int64_t steps, double* sums, double* mins,
                         double* stepMax, void* stream);

} // namespace lathe::gpu::kernels
