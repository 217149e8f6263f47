// Lathe: the spectral analysis's per-frame work, as a backend operation.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// SpectralAnalyzer (lathe/Spectrum.h) windows every half-overlapping frame, transforms it, adds its
// sine-calibrated power to the long-term sums (per channel, and mid/side for stereo) and pools the
// channel-averaged power into the spectrogram's log-spaced rows (the largest and the mean power of
// each row's bins). On the CPU that is the analyzer's own code (the reference). A backend with
// Capability::Spectrum does the same for a batch of consecutive frames on its device (batched
// FFTs, the sums and the row pooling there), and the analyzer pools the rows into time columns.
// (C++17, for nvcc: no AudioBuffer definition here.)
#pragma once

#include <lathe/Types.h>

#include <cstddef>
#include <vector>

namespace lathe {

class AudioBuffer;

/// Everything fixed for a file.
struct SpectrumParams {
    int channels = 0;
    bool stereo = false;    ///< two channels: mid and side curves too
    int n = 0;              ///< FFT size; frames are n samples, hop n/2 apart
    int bins = 0;           ///< n/2 + 1
    double sineScale = 0.0; ///< (2/Σw)²: a full-scale sine centred on a bin reads 1 (halved at DC, Nyquist)
    std::vector<float> window; ///< n values
    int rows = 0;
    /// Row r pools bins rowFirstBin[r] … + rowBinCount[r] − 1; a row with no bin reads the bin
    /// rowFallbackBin[r].
    std::vector<int> rowFirstBin;
    std::vector<int> rowBinCount;
    std::vector<int> rowFallbackBin;

    int curves() const { return stereo ? 4 : channels; }
};

/// One call: `frames` consecutive frames, frame f being samples f·n/2 … f·n/2 + n − 1 of `audio`
/// (params.channels channels, (frames − 1)·n/2 + n samples).
struct SpectrumCall {
    const AudioBuffer* audio = nullptr;
    int frames = 0;
};

/// What a call computed.
struct SpectrumCallResult {
    std::vector<std::vector<double>> powerSum; ///< [curve][bin]: Σ over the call's frames
    std::vector<double> rowMax;                ///< [frame·rows + row]: per frame, the row's largest power
    std::vector<double> rowMean;               ///< … and its mean power

    /// Zeros of the sizes a call of `frames` frames fills.
    void reset(const SpectrumParams& params, int frames) {
        powerSum.assign(static_cast<std::size_t>(params.curves()),
                        std::vector<double>(static_cast<std::size_t>(params.bins), 0.0));
        rowMax.assign(static_cast<std::size_t>(frames) * static_cast<std::size_t>(params.rows), 0.0);
        rowMean.assign(rowMax.size(), 0.0);
    }
};

} // namespace lathe
