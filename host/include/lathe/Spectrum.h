// Lathe: spectra, spectrogram and stereo image of a whole file, and the display math around them.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Conventions:
// - Long-term spectrum: Welch's method, Hann window, 50 % overlap (the windows sum to a constant,
//   so every sample counts equally), FFT size the smallest power of two with a bin spacing of at
//   most 3 Hz (16384 at 44.1/48 kHz). Power per bin is calibrated so that a full-scale sine centred
//   on a bin reads 0 dBFS; noise reads its power per bin (so pink noise falls 3 dB per octave).
// - Fractional-octave smoothing is a moving average over ±1/(2N) octave on the log-frequency axis
//   (each bin spreads its power over its band in proportion to the bins' widths in ln f): the area
//   under the curve as drawn (power per log-frequency) is preserved exactly, flat noise stays
//   flat, and a pure tone reads lower the wider the smoothing (its power is shared across the band).
// - The long-term average uses the frames that lie entirely inside the file (all frames only for
//   files shorter than one frame).
// - Spectrogram: the same FFT frames, pooled on the fly into at most `columns` time columns and
//   `rows` log-spaced frequency rows from 20 Hz to Nyquist — both the maximum (keeps short peaks)
//   and the mean (keeps energy) of the power in each cell. Memory is rows × columns, whatever the
//   file's length.
// - Stereo: correlation of L and R every 100 ms and over 3 s windows (and overall); side-to-mid
//   energy and mono-fold loss per octave band; the K-weighted loudness change when folded to mono
//   (M = (L+R)/2 on both speakers); the L/R balance (K-weighted).
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/ChannelLayout.h>
#include <lathe/Types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

class Backend;

struct SpectrumSettings {
    int fftSize = 0;        ///< 0: the smallest power of two with ≤ 3 Hz bins
    int columns = 2000;     ///< spectrogram time columns at most
    int rows = 160;         ///< spectrogram frequency rows
    double lowestHz = 20.0; ///< lower edge of the spectrogram and of the display curves
};

struct LongTermSpectrum {
    SampleRate sampleRate = 0;
    int fftSize = 0;
    double binHz = 0;
    std::int64_t framesAveraged = 0;
    std::vector<std::string> labels;        ///< one per curve: channel labels, then "M", "S" for stereo
    std::vector<std::vector<double>> power; ///< [curve][bin], sine-calibrated mean power
};

struct Spectrogram {
    int rows = 0;
    int columns = 0;
    double secondsPerColumn = 0;
    std::vector<double> rowLowHz; ///< lower edge of each row (row 0 is the lowest frequency)
    std::vector<double> rowHighHz;
    std::vector<float> maxDb; ///< [row · columns + column], −∞ for silence
    std::vector<float> meanDb;
};

struct StereoImage {
    double stepSeconds = 0.1;
    std::optional<double> correlation;    ///< over the whole file (null if a channel is silent)
    std::vector<double> correlation100ms; ///< per 100 ms step; NaN where a channel is silent
    std::vector<double> correlation3s;    ///< 3 s window ending at each step (NaN before 3 s)
    std::vector<double> bandCentreHz;     ///< octave bands 31.5 Hz … 16 kHz (below Nyquist)
    std::vector<double> sideToMidDb;      ///< per band: 10·log10(side energy / mid energy)
    std::vector<double> monoLossDb;       ///< per band: energy change of the mono fold
    std::optional<double> monoLossLu;     ///< K-weighted energy change of the mono fold
    std::optional<double> balanceDb;      ///< K-weighted L over R (positive: left louder)
};

/// Streams a file's blocks into the long-term spectrum, the spectrogram and the stereo image.
/// Not thread-safe; one instance per file.
class SpectralAnalyzer {
public:
    /// `backend`: where the frames entirely inside the file are transformed and pooled, when it
    /// has Capability::Spectrum (lathe/SpectrumKernel.h); otherwise here, with FFTW (the reference).
    SpectralAnalyzer(SampleRate fs, const ChannelLayout& layout, Frames expectedFrames,
                     const SpectrumSettings& s, Backend* backend = nullptr);
    ~SpectralAnalyzer();
    SpectralAnalyzer(const SpectralAnalyzer&) = delete;
    SpectralAnalyzer& operator=(const SpectralAnalyzer&) = delete;

    void add(const AudioBuffer& block);
    /// Processes what is left (the last frames, zero-padded). Call once, after the last add().
    void finish();

    const LongTermSpectrum& spectrum() const;
    const Spectrogram& spectrogram() const;
    const StereoImage& stereo() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// ---- Display math (pure functions, shared by the reports and the UI) ----

/// FFT size for a rate: the smallest power of two with fs/N ≤ 3 Hz.
int spectrumFftSize(SampleRate fs);

/// Power in dB (10·log10), −∞ for 0.
double powerDb(double power);

/// Per-bin power averaged over ±1/(2·fraction) octave around each bin on the log-frequency axis
/// (fraction 1, 3, 6, 12, 24; 0 returns the input). Bands are cut at DC and Nyquist.
std::vector<double> smoothFractionalOctave(const std::vector<double>& power, int fraction);

/// `pointsPerOctave` log-spaced frequencies from `lowHz` up to `highHz`.
std::vector<double> logFrequencies(double lowHz, double highHz, int pointsPerOctave);

/// Per-bin values read at the given frequencies (linear interpolation between bin centres).
std::vector<double> sampleBins(const std::vector<double>& perBin, double binHz,
                               const std::vector<double>& hz);

/// The display curve of one spectrum curve: smoothed at 1/`fraction` octave, read at `hz`, in dB.
std::vector<double> spectrumCurveDb(const LongTermSpectrum& spectrum, std::size_t curve, int fraction,
                                    const std::vector<double>& hz);

/// Before/after: the main curve (mid for stereo, else the first) of `reference` and of `other` in
/// dB at `hz`, `other` brought to the reference's bin width. Per-bin levels of noise-like content
/// scale with the bin width, so files at different sample rates would otherwise differ by
/// 10·log10 of the ratio (music is noise-like at the smoothing's resolution).
struct SpectrumComparison {
    std::vector<double> beforeDb;
    std::vector<double> afterDb;
    bool binWidthsDiffer = false;
};
SpectrumComparison compareSpectra(const LongTermSpectrum& reference, const LongTermSpectrum& other,
                                  int fraction, const std::vector<double>& hz);

/// The frequencies at which reports draw spectra: 24 per octave from 20 Hz to 20 kHz (or Nyquist).
std::vector<double> displayFrequencies(SampleRate fs);

/// Octave-band centres 31.25 Hz … 16 kHz (1 kHz · 2^k); a band spans centre/√2 … centre·√2.
std::vector<double> octaveBandCentres();
/// The power in bins lowHz ≤ f < highHz (DC excluded), summed over the first `channels` curves
/// (the channels; the M/S curves after them are left out).
double bandPower(const LongTermSpectrum& spectrum, int channels, double lowHz, double highHz);

/// Per bin, the power of the first `channels` curves summed (all channels as one).
std::vector<double> summedChannelPower(const LongTermSpectrum& spectrum, int channels);

/// Magnitude² of the K-weighting filter at `hz` for rate `fs` (used to weight spectra).
double kWeightingPowerGain(SampleRate fs, double hz);

} // namespace lathe
