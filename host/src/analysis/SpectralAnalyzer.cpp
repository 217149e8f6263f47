// SPDX-License-Identifier: GPL-3.0-or-later
// Welch spectrum, pooled spectrogram and stereo image in one streaming pass (FFTW, single
// precision transforms, double accumulation). Conventions in lathe/Spectrum.h.
#include "../core/Fftw.h"

#include <lathe/Backend.h>
#include <lathe/Error.h>
#include <lathe/Spectrum.h>
#include <lathe/design/LoudnessDesign.h>

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <mutex>
#include <numbers>
#include <optional>

namespace lathe {
namespace {

/// New samples (all channels) per call of a backend's spectrum (Capability::Spectrum), which sets
/// the frames a call takes: 128 frames of 16384 points for 48 kHz stereo (22 s, 8.4 MB held), 10
/// of 65536 for 192 kHz 5.1 — the batch held here stays a few MB whatever the rate and layout.
constexpr std::int64_t kSpectrumBatchSamples = std::int64_t{1} << 21;
constexpr int kSpectrumMaxBatch = 128;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using detail::FftwFree;
using detail::fftwPlannerMutex;

/// |H(e^{jω})|² of one biquad.
double biquadPowerGain(const math::BiquadD& c, double omega) {
    const std::complex<double> z1 = std::polar(1.0, -omega);
    const std::complex<double> z2 = z1 * z1;
    const std::complex<double> num = c.b0 + c.b1 * z1 + c.b2 * z2;
    const std::complex<double> den = 1.0 + c.a1 * z1 + c.a2 * z2;
    return std::norm(num) / std::norm(den);
}

} // namespace

int spectrumFftSize(SampleRate fs) {
    int n = 256;
    while (static_cast<double>(fs) / n > 3.0) {
        n *= 2;
    }
    return n;
}

double powerDb(double power) {
    return power > 0.0 ? 10.0 * std::log10(power) : -std::numeric_limits<double>::infinity();
}

namespace {
double kPowerGain(const math::KWeighting& k, SampleRate fs, double hz) {
    const double omega = 2.0 * std::numbers::pi * hz / fs;
    return biquadPowerGain(k.shelf, omega) * biquadPowerGain(k.highpass, omega);
}
} // namespace

double kWeightingPowerGain(SampleRate fs, double hz) {
    return kPowerGain(design::designKWeighting(fs), fs, hz);
}

std::vector<double> smoothFractionalOctave(const std::vector<double>& power, int fraction) {
    if (fraction <= 0 || power.size() < 3) {
        return power;
    }
    // A moving average on the log-frequency axis, written as a scatter. Bin k covers
    // [ln(k − ½), ln(k + ½)] of log frequency; its "mass" is its power times that width. Each bin's
    // mass is spread evenly (in ln f) over its band ln j ± ln h, h = 2^(1/2N), cut to the spectrum
    // (so nothing leaks past DC or Nyquist), and each receiving bin gets the share that overlaps
    // it. So the area under the curve as drawn, Σ S_k·width_k, is exactly the input's, and a flat
    // spectrum comes out flat up to the cut at the ends. DC is left as it is. O(n · 1) with a
    // difference array for the bins a band covers entirely.
    const std::size_t n = power.size();
    auto edge = [](std::size_t k) {
        return std::log(static_cast<double>(k) - 0.5);
    }; // lower edge of bin k ≥ 1
    const double lowest = edge(1);
    const double highest = edge(n); // upper edge of the last bin
    std::vector<double> width(n, 0.0);
    for (std::size_t k = 1; k < n; ++k) {
        width[k] = edge(k + 1) - edge(k);
    }
    const double half = std::log(2.0) / (2.0 * fraction);
    std::vector<double> delta(n + 1, 0.0); // densities added to whole bins
    std::vector<double> partial(n, 0.0);   // masses added to partly covered bins
    auto binOf = [&](double logF) {
        return std::clamp<std::size_t>(static_cast<std::size_t>(std::floor(std::exp(logF) + 0.5)), 1, n - 1);
    };
    for (std::size_t j = 1; j < n; ++j) {
        const double centre = std::log(static_cast<double>(j));
        const double lo = std::max(lowest, centre - half);
        const double hi = std::min(highest, centre + half);
        const double density = power[j] * width[j] / (hi - lo); // mass per unit of ln f
        const std::size_t a = binOf(lo);
        const std::size_t b = binOf(hi - 1e-12);
        if (a == b) {
            partial[a] += density * (hi - lo);
            continue;
        }
        partial[a] += density * (edge(a + 1) - lo);
        partial[b] += density * (hi - edge(b));
        delta[a + 1] += density;
        delta[b] -= density;
    }
    std::vector<double> out(n);
    out[0] = power[0];
    double running = 0.0;
    for (std::size_t k = 1; k < n; ++k) {
        running += delta[k];
        out[k] = std::max(0.0, running + partial[k] / width[k]);
    }
    return out;
}

std::vector<double> logFrequencies(double lowHz, double highHz, int pointsPerOctave) {
    std::vector<double> f;
    const double step = std::pow(2.0, 1.0 / pointsPerOctave);
    for (double x = lowHz; x <= highHz * (1.0 + 1e-12); x *= step) {
        f.push_back(x);
    }
    return f;
}

std::vector<double> sampleBins(const std::vector<double>& perBin, double binHz,
                               const std::vector<double>& hz) {
    std::vector<double> out;
    out.reserve(hz.size());
    for (double f : hz) {
        const double pos = std::clamp(f / binHz, 0.0, static_cast<double>(perBin.size() - 1));
        const auto k = static_cast<std::size_t>(pos);
        const double frac = pos - static_cast<double>(k);
        const double v = k + 1 < perBin.size() ? perBin[k] * (1.0 - frac) + perBin[k + 1] * frac : perBin[k];
        out.push_back(v);
    }
    return out;
}

std::vector<double> spectrumCurveDb(const LongTermSpectrum& spectrum, std::size_t curve, int fraction,
                                    const std::vector<double>& hz) {
    std::vector<double> v =
        sampleBins(smoothFractionalOctave(spectrum.power.at(curve), fraction), spectrum.binHz, hz);
    for (double& x : v) {
        x = powerDb(x);
    }
    return v;
}

SpectrumComparison compareSpectra(const LongTermSpectrum& reference, const LongTermSpectrum& other,
                                  int fraction, const std::vector<double>& hz) {
    auto mainCurve = [](const LongTermSpectrum& s) -> std::size_t { return s.labels.size() >= 3 ? 2 : 0; };
    SpectrumComparison c;
    c.beforeDb = spectrumCurveDb(reference, mainCurve(reference), fraction, hz);
    c.afterDb = spectrumCurveDb(other, mainCurve(other), fraction, hz);
    const double correction = 10.0 * std::log10(reference.binHz / other.binHz);
    for (double& v : c.afterDb) {
        v += correction;
    }
    c.binWidthsDiffer = std::fabs(reference.binHz - other.binHz) > 1e-9;
    return c;
}

std::vector<double> displayFrequencies(SampleRate fs) {
    return logFrequencies(20.0, std::min(20000.0, fs / 2.0), 24);
}

struct SpectralAnalyzer::Impl {
    SampleRate fs;
    int channels;
    bool stereo;
    int n;
    int hop;
    int bins;
    std::vector<float> window;
    double sineScale;                       // (2/Σw)²
    std::vector<double> windowEnergyPrefix; // Σ w² over [0, i)
    std::int64_t framesProcessed = 0;
    std::int64_t fullFrames = 0;                // frames entirely inside the file
    double edgeCoverage = 0.0;                  // Σ coverage of the frames that are not
    std::vector<std::vector<double>> edgePower; // their power, kept apart (used only for short files)
    std::unique_ptr<float, FftwFree> in;
    std::vector<std::unique_ptr<fftwf_complex, FftwFree>> out;
    fftwf_plan plan = nullptr;
    AudioBuffer pending;
    Frames realFramesSeen = 0;
    LongTermSpectrum spectrum;
    Spectrogram gram;
    StereoImage image;
    // Spectrogram pooling state.
    std::vector<int> binRow; // row of each bin, −1 below the lowest row
    std::vector<int> rowFallbackBin;
    std::int64_t framesPerColumn = 1;
    std::int64_t framesInColumn = 0;
    std::vector<double> colMax, colSum, frameRowMax, frameRowSum;
    std::vector<int> rowBinCount;
    std::vector<int> rowFirstBin; // a row's bins are consecutive (binRow never decreases)
    std::vector<double> framePower;
    std::vector<double> scaleOfBin; // binScale(k) for every bin
    // The frames on a backend (Capability::Spectrum): its parameters, and the batch being filled.
    Backend* backend = nullptr;
    std::optional<SpectrumParams> device;
    AudioBuffer batch;
    int batchFrames = 0;
    int batchLimit = 1; ///< frames per call
    SpectrumCallResult batchResult;
    // Stereo time-domain sums per 100 ms step.
    Frames stepFrames;
    Frames stepFill = 0;
    double sLR = 0, sLL = 0, sRR = 0;
    double tLR = 0, tLL = 0, tRR = 0;
    std::vector<double> stepLR, stepLL, stepRR;

    ~Impl() {
        if (plan != nullptr) {
            std::lock_guard lock(fftwPlannerMutex());
            fftwf_destroy_plan(plan);
        }
    }

    /// Share of this frame's window energy that falls on real samples (not the zero padding at either
    /// end): 1 inside the file. Dividing the summed frame powers by the summed shares (instead of
    /// the frame count) keeps the average unbiased for short files.
    double coverage(Frames realEnd) const {
        const Frames start = framesProcessed * hop; // padded coordinates: real samples are [hop, realEnd)
        const Frames a = std::clamp<Frames>(hop - start, 0, n);
        const Frames b = std::clamp<Frames>(realEnd - start, 0, n);
        if (b <= a) {
            return 0.0;
        }
        return (windowEnergyPrefix[static_cast<std::size_t>(b)] -
                windowEnergyPrefix[static_cast<std::size_t>(a)]) /
               windowEnergyPrefix.back();
    }

    void processFrame(const AudioBuffer& frame, Frames realEnd) {
        const double cover = coverage(realEnd);
        const bool full = cover >= 1.0 - 1e-12;
        if (device) {
            if (full) {
                batchFrame(frame);
                return;
            }
            flushBatch(); // the frames before this one are pooled first
        }
        ++framesProcessed;
        if (full) {
            ++fullFrames;
        } else {
            edgeCoverage += cover;
        }
        // Edge frames accumulate into their own sums (swapped in and out of place).
        if (!full) {
            spectrum.power.swap(edgePower);
        }
        processWindowed(frame);
        if (!full) {
            spectrum.power.swap(edgePower);
        }
    }

    void processWindowed(const AudioBuffer& frame) {
        std::fill(framePower.begin(), framePower.end(), 0.0);
        for (int c = 0; c < channels; ++c) {
            const float* x = frame.channel(c);
            float* buf = in.get();
            for (int i = 0; i < n; ++i) {
                buf[i] = x[i] * window[static_cast<std::size_t>(i)];
            }
            fftwf_execute_dft_r2c(plan, buf, out[static_cast<std::size_t>(c)].get());
            const fftwf_complex* X = out[static_cast<std::size_t>(c)].get();
            double* acc = spectrum.power[static_cast<std::size_t>(c)].data();
            // A channel's share of the frame's power: p / channels, which for 1, 2, 4 … channels
            // is p times the exact reciprocal (the same rounding of the same quotient) — a
            // multiplication instead of a division per bin.
            if ((channels & (channels - 1)) == 0) {
                addPower(X, acc, 1.0 / channels, [](double p, double share) { return p * share; });
            } else {
                addPower(X, acc, channels, [](double p, double count) { return p / count; });
            }
        }
        if (stereo) {
            const fftwf_complex* L = out[0].get();
            const fftwf_complex* R = out[1].get();
            std::vector<double>& mid = spectrum.power[2];
            std::vector<double>& side = spectrum.power[3];
            for (int k = 0; k < bins; ++k) {
                const double mr = 0.5 * (static_cast<double>(L[k][0]) + R[k][0]);
                const double mi = 0.5 * (static_cast<double>(L[k][1]) + R[k][1]);
                const double sr = 0.5 * (static_cast<double>(L[k][0]) - R[k][0]);
                const double si = 0.5 * (static_cast<double>(L[k][1]) - R[k][1]);
                mid[static_cast<std::size_t>(k)] +=
                    (mr * mr + mi * mi) * scaleOfBin[static_cast<std::size_t>(k)];
                side[static_cast<std::size_t>(k)] +=
                    (sr * sr + si * si) * scaleOfBin[static_cast<std::size_t>(k)];
            }
        }
        poolFrame();
    }

    double binScale(int k) const { return (k == 0 || k == n / 2) ? sineScale / 4.0 : sineScale; }

    /// Each bin's power into `acc` (the channel's sum) and its share into framePower: the loop
    /// has no branch (the bins' scales come from scaleOfBin), so that it vectorises.
    template <typename Share>
    void addPower(const fftwf_complex* X, double* __restrict acc, double by, Share share) {
        const double* __restrict scale = scaleOfBin.data();
        double* __restrict frameSum = framePower.data();
        for (int k = 0; k < bins; ++k) {
            const double p =
                (static_cast<double>(X[k][0]) * X[k][0] + static_cast<double>(X[k][1]) * X[k][1]) * scale[k];
            acc[k] += p;
            frameSum[k] += share(p, by);
        }
    }

    /// The frame's rows from framePower (its largest and mean power, or the fallback bin's), pooled.
    void poolFrame() {
        // Row by row over its consecutive bins, the largest and the sum kept in registers (a
        // scatter by bin into the rows' sums waited on each store), in the same order.
        for (int r = 0; r < gram.rows; ++r) {
            const auto ri = static_cast<std::size_t>(r);
            const int count = rowBinCount[ri];
            if (count == 0) {
                frameRowMax[ri] = frameRowSum[ri] = framePower[static_cast<std::size_t>(rowFallbackBin[ri])];
                continue;
            }
            const double* p = framePower.data() + rowFirstBin[ri];
            double largest = 0.0;
            double sum = 0.0;
            for (int j = 0; j < count; ++j) {
                largest = std::max(largest, p[j]);
                sum += p[j];
            }
            frameRowMax[ri] = largest;
            frameRowSum[ri] = sum / count; // the mean
        }
        poolRows(frameRowMax.data(), frameRowSum.data());
    }

    /// One frame's rows (largest and mean power) into the current time column.
    void poolRows(const double* mx, const double* mean) {
        for (int r = 0; r < gram.rows; ++r) {
            const auto ri = static_cast<std::size_t>(r);
            colMax[ri] = std::max(colMax[ri], mx[ri]);
            colSum[ri] += mean[ri];
        }
        if (++framesInColumn == framesPerColumn) {
            commitColumn();
        }
    }

    /// A frame entirely inside the file, for the backend's next batch (consecutive frames overlap
    /// by half: after the first, each adds its second half).
    void batchFrame(const AudioBuffer& frame) {
        if (batchFrames == 0) {
            batch.useMemory(backend->hostMemory()); // the device copies it from there fastest
            batch.reset(channels, static_cast<Frames>(n) + static_cast<Frames>(batchLimit - 1) * hop);
            batch.append(frame, 0, n);
        } else {
            batch.append(frame, hop, hop);
        }
        ++framesProcessed;
        ++fullFrames;
        if (++batchFrames == batchLimit) {
            flushBatch();
        }
    }

    /// The batched frames on the backend: their power added to the sums, their rows pooled in order.
    void flushBatch() {
        if (batchFrames == 0) {
            return;
        }
        backend->spectrumFrames(*device, SpectrumCall{&batch, batchFrames}, batchResult);
        for (std::size_t c = 0; c < spectrum.power.size(); ++c) {
            for (int k = 0; k < bins; ++k) {
                spectrum.power[c][static_cast<std::size_t>(k)] +=
                    batchResult.powerSum[c][static_cast<std::size_t>(k)];
            }
        }
        const auto rows = static_cast<std::size_t>(gram.rows);
        for (int f = 0; f < batchFrames; ++f) {
            poolRows(batchResult.rowMax.data() + static_cast<std::size_t>(f) * rows,
                     batchResult.rowMean.data() + static_cast<std::size_t>(f) * rows);
        }
        batchFrames = 0;
    }

    void commitColumn() {
        if (framesInColumn == 0) {
            return;
        }
        gram.maxDb.resize(static_cast<std::size_t>(gram.rows) * static_cast<std::size_t>(gram.columns + 1));
        gram.meanDb.resize(gram.maxDb.size());
        // Stored column-major while streaming; transposed to [row][column] in finish().
        for (int r = 0; r < gram.rows; ++r) {
            const auto ri = static_cast<std::size_t>(r);
            const std::size_t at =
                static_cast<std::size_t>(gram.columns) * static_cast<std::size_t>(gram.rows) + ri;
            gram.maxDb[at] = static_cast<float>(powerDb(colMax[ri]));
            gram.meanDb[at] = static_cast<float>(powerDb(colSum[ri] / static_cast<double>(framesInColumn)));
        }
        ++gram.columns;
        framesInColumn = 0;
        std::fill(colMax.begin(), colMax.end(), 0.0);
        std::fill(colSum.begin(), colSum.end(), 0.0);
    }

    void addStereoSums(const AudioBuffer& block) {
        const float* l = block.channel(0);
        const float* r = block.channel(1);
        Frames i = 0;
        while (i < block.frames()) {
            const Frames take = std::min(block.frames() - i, stepFrames - stepFill);
            for (Frames j = i; j < i + take; ++j) {
                const double a = l[j];
                const double b = r[j];
                sLR += a * b;
                sLL += a * a;
                sRR += b * b;
            }
            i += take;
            stepFill += take;
            if (stepFill == stepFrames) {
                closeStep();
            }
        }
    }

    void closeStep() {
        stepLR.push_back(sLR);
        stepLL.push_back(sLL);
        stepRR.push_back(sRR);
        tLR += sLR;
        tLL += sLL;
        tRR += sRR;
        sLR = sLL = sRR = 0.0;
        stepFill = 0;
    }
};

namespace {
double correlationOf(double lr, double ll, double rr) {
    return ll > 0.0 && rr > 0.0 ? lr / std::sqrt(ll * rr) : kNaN;
}
} // namespace

SpectralAnalyzer::SpectralAnalyzer(SampleRate fs, const ChannelLayout& layout, Frames expectedFrames,
                                   const SpectrumSettings& s, Backend* backend)
    : m_impl(std::make_unique<Impl>()) {
    Impl& d = *m_impl;
    d.fs = fs;
    d.channels = layout.channels();
    LATHE_EXPECTS(d.channels > 0, "spectral analysis of zero channels");
    d.stereo = d.channels == 2;
    d.n = s.fftSize > 0 ? s.fftSize : spectrumFftSize(fs);
    d.hop = d.n / 2;
    d.bins = d.n / 2 + 1;
    d.window.resize(static_cast<std::size_t>(d.n));
    double sum = 0.0;
    d.windowEnergyPrefix.assign(1, 0.0);
    for (int i = 0; i < d.n; ++i) {
        const double w = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / d.n); // periodic Hann: COLA at n/2
        const auto wf = static_cast<float>(w);
        d.window[static_cast<std::size_t>(i)] = wf;
        sum += w;
        d.windowEnergyPrefix.push_back(d.windowEnergyPrefix.back() + static_cast<double>(wf) * wf);
    }
    d.sineScale = (2.0 / sum) * (2.0 / sum);
    for (int k = 0; k < d.bins; ++k) {
        d.scaleOfBin.push_back(d.binScale(k));
    }
    d.in.reset(fftwf_alloc_real(static_cast<std::size_t>(d.n)));
    for (int c = 0; c < d.channels; ++c) {
        d.out.emplace_back(fftwf_alloc_complex(static_cast<std::size_t>(d.bins)));
    }
    {
        std::lock_guard lock(fftwPlannerMutex());
        d.plan = fftwf_plan_dft_r2c_1d(d.n, d.in.get(), d.out[0].get(), FFTW_ESTIMATE);
    }
    if (d.plan == nullptr) {
        throw Error(ErrorKind::Internal, "FFTW could not plan a transform of size " + std::to_string(d.n));
    }

    LongTermSpectrum& sp = d.spectrum;
    sp.sampleRate = fs;
    sp.fftSize = d.n;
    sp.binHz = static_cast<double>(fs) / d.n;
    for (Speaker spk : layout.speakers) {
        sp.labels.emplace_back(speakerLabel(spk));
    }
    if (d.stereo) {
        sp.labels = {"L", "R", "M", "S"};
    }
    sp.power.assign(sp.labels.size(), std::vector<double>(static_cast<std::size_t>(d.bins), 0.0));
    d.edgePower = sp.power;

    // Spectrogram geometry.
    Spectrogram& g = d.gram;
    g.rows = std::max(1, s.rows);
    const double low = s.lowestHz;
    const double high = fs / 2.0;
    for (int r = 0; r < g.rows; ++r) {
        g.rowLowHz.push_back(low * std::pow(high / low, static_cast<double>(r) / g.rows));
        g.rowHighHz.push_back(low * std::pow(high / low, static_cast<double>(r + 1) / g.rows));
    }
    d.binRow.assign(static_cast<std::size_t>(d.bins), -1);
    d.rowBinCount.assign(static_cast<std::size_t>(g.rows), 0);
    for (int k = 0; k < d.bins; ++k) {
        const double f = k * sp.binHz;
        if (f < low) {
            continue;
        }
        const int r = std::min(
            g.rows - 1, static_cast<int>(std::floor(std::log(f / low) / std::log(high / low) * g.rows)));
        d.binRow[static_cast<std::size_t>(k)] = r;
        ++d.rowBinCount[static_cast<std::size_t>(r)];
    }
    d.rowFirstBin.assign(static_cast<std::size_t>(g.rows), 0);
    for (int k = d.bins - 1; k >= 0; --k) {
        if (const int r = d.binRow[static_cast<std::size_t>(k)]; r >= 0) {
            d.rowFirstBin[static_cast<std::size_t>(r)] = k;
        }
    }
    for (int r = 0; r < g.rows; ++r) { // poolFrame relies on it
        const auto ri = static_cast<std::size_t>(r);
        for (int j = 0; j < d.rowBinCount[ri]; ++j) {
            LATHE_EXPECTS(d.binRow[static_cast<std::size_t>(d.rowFirstBin[ri] + j)] == r,
                          "a spectrogram row's bins are consecutive");
        }
    }
    for (int r = 0; r < g.rows; ++r) {
        const double centre =
            std::sqrt(g.rowLowHz[static_cast<std::size_t>(r)] * g.rowHighHz[static_cast<std::size_t>(r)]);
        d.rowFallbackBin.push_back(
            std::clamp(static_cast<int>(std::lround(centre / sp.binHz)), 0, d.bins - 1));
    }
    const std::int64_t expectedFrames2 = std::max<Frames>(1, expectedFrames) / d.hop + 3;
    d.framesPerColumn = std::max<std::int64_t>(1, (expectedFrames2 + s.columns - 1) / std::max(1, s.columns));
    g.secondsPerColumn = static_cast<double>(d.framesPerColumn * d.hop) / fs;
    d.colMax.assign(static_cast<std::size_t>(g.rows), 0.0);
    d.colSum.assign(static_cast<std::size_t>(g.rows), 0.0);
    d.frameRowMax.assign(static_cast<std::size_t>(g.rows), 0.0);
    d.frameRowSum.assign(static_cast<std::size_t>(g.rows), 0.0);
    d.framePower.assign(static_cast<std::size_t>(d.bins), 0.0);

    if (backend != nullptr && backend->supports(Capability::Spectrum)) {
        SpectrumParams p;
        p.channels = d.channels;
        p.stereo = d.stereo;
        p.n = d.n;
        p.bins = d.bins;
        p.sineScale = d.sineScale;
        p.window = d.window;
        p.rows = g.rows;
        p.rowFirstBin.assign(static_cast<std::size_t>(g.rows), 0);
        for (int k = d.bins - 1; k >= 0; --k) { // rows are runs of consecutive bins
            if (const int r = d.binRow[static_cast<std::size_t>(k)]; r >= 0) {
                p.rowFirstBin[static_cast<std::size_t>(r)] = k;
            }
        }
        p.rowBinCount = d.rowBinCount;
        p.rowFallbackBin = d.rowFallbackBin;
        d.backend = backend;
        d.device = std::move(p);
        d.batchLimit = static_cast<int>(std::clamp<std::int64_t>(
            kSpectrumBatchSamples / (static_cast<std::int64_t>(d.hop) * d.channels), 1, kSpectrumMaxBatch));
    }

    // Half a frame of silence first, so that the windows covering the first samples sum to one.
    d.pending.reset(d.channels, d.n + 65536);
    d.pending.setFrames(d.hop);
    d.pending.clear();
    d.stepFrames = (fs + 5) / 10;
}

SpectralAnalyzer::~SpectralAnalyzer() = default;

void SpectralAnalyzer::add(const AudioBuffer& block) {
    Impl& d = *m_impl;
    d.realFramesSeen += block.frames();
    if (d.stereo) {
        d.addStereoSums(block);
    }
    Frames offset = 0;
    while (offset < block.frames()) {
        const Frames take = std::min(block.frames() - offset, static_cast<Frames>(d.n) - d.pending.frames());
        d.pending.append(block, offset, take);
        offset += take;
        if (d.pending.frames() == d.n) {
            d.processFrame(d.pending, d.hop + d.realFramesSeen);
            d.pending.dropFront(d.hop);
        }
    }
}

void SpectralAnalyzer::finish() {
    Impl& d = *m_impl;
    // Zero-pad until every real sample has been covered by both of its half-overlapping windows.
    // Padded coordinates: hop zeros, then the real samples; pending[0] is where the next frame starts.
    if (d.realFramesSeen > 0) {
        const Frames totalPadded = d.hop + d.realFramesSeen;
        const Frames lastStart = ((totalPadded - 1) / d.hop) * d.hop;
        for (Frames next = totalPadded - d.pending.frames(); next <= lastStart; next += d.hop) {
            const Frames have = d.pending.frames();
            d.pending.setFrames(d.n);
            for (int c = 0; c < d.channels; ++c) {
                std::fill(d.pending.channel(c) + have, d.pending.channel(c) + d.n, 0.0f);
            }
            d.processFrame(d.pending, totalPadded);
            d.pending.dropFront(d.hop);
        }
    }
    d.flushBatch();
    d.commitColumn();

    // Long-term average over the frames that lie entirely inside the file. Frames overlapping the
    // zero padding at the ends are biased in a way that depends on the signal (a tone loses
    // amplitude, noise loses energy), so they count only when a file is shorter than one frame,
    // weighted by how much of their window lay on the file.
    if (d.fullFrames > 0) {
        for (auto& curve : d.spectrum.power) {
            for (double& p : curve) {
                p /= static_cast<double>(d.fullFrames);
            }
        }
    } else {
        d.spectrum.power.swap(d.edgePower);
        for (auto& curve : d.spectrum.power) {
            for (double& p : curve) {
                p = d.edgeCoverage > 0.0 ? p / d.edgeCoverage : 0.0;
            }
        }
    }
    d.spectrum.framesAveraged = d.fullFrames > 0 ? d.fullFrames : d.framesProcessed;

    // Spectrogram: column-major while streaming → [row][column].
    Spectrogram& g = d.gram;
    std::vector<float> mx(g.maxDb.size());
    std::vector<float> mn(g.meanDb.size());
    for (int c = 0; c < g.columns; ++c) {
        for (int r = 0; r < g.rows; ++r) {
            const std::size_t from =
                static_cast<std::size_t>(c) * static_cast<std::size_t>(g.rows) + static_cast<std::size_t>(r);
            const std::size_t to = static_cast<std::size_t>(r) * static_cast<std::size_t>(g.columns) +
                                   static_cast<std::size_t>(c);
            mx[to] = g.maxDb[from];
            mn[to] = g.meanDb[from];
        }
    }
    mx.resize(static_cast<std::size_t>(g.rows) * static_cast<std::size_t>(g.columns));
    mn.resize(mx.size());
    g.maxDb.swap(mx);
    g.meanDb.swap(mn);

    // Stereo image.
    if (d.stereo) {
        if (d.stepFill > 0) {
            d.closeStep();
        }
        StereoImage& im = d.image;
        im.stepSeconds = static_cast<double>(d.stepFrames) / d.fs;
        const double overall = correlationOf(d.tLR, d.tLL, d.tRR);
        if (!std::isnan(overall)) {
            im.correlation = overall;
        }
        double wLR = 0, wLL = 0, wRR = 0;
        for (std::size_t i = 0; i < d.stepLR.size(); ++i) {
            im.correlation100ms.push_back(correlationOf(d.stepLR[i], d.stepLL[i], d.stepRR[i]));
            wLR += d.stepLR[i];
            wLL += d.stepLL[i];
            wRR += d.stepRR[i];
            if (i >= 30) {
                wLR -= d.stepLR[i - 30];
                wLL -= d.stepLL[i - 30];
                wRR -= d.stepRR[i - 30];
            }
            im.correlation3s.push_back(i >= 29 ? correlationOf(wLR, std::max(0.0, wLL), std::max(0.0, wRR))
                                               : kNaN);
        }
        const auto& P = d.spectrum.power;
        const double binHz = d.spectrum.binHz;
        for (double centre = 31.25; centre * std::sqrt(2.0) <= d.fs / 2.0 && centre <= 16000.0;
             centre *= 2.0) {
            double l = 0, r = 0, m = 0, s = 0;
            for (int k = 0; k < d.bins; ++k) {
                const double f = k * binHz;
                if (f >= centre / std::sqrt(2.0) && f < centre * std::sqrt(2.0)) {
                    l += P[0][static_cast<std::size_t>(k)];
                    r += P[1][static_cast<std::size_t>(k)];
                    m += P[2][static_cast<std::size_t>(k)];
                    s += P[3][static_cast<std::size_t>(k)];
                }
            }
            im.bandCentreHz.push_back(centre);
            im.sideToMidDb.push_back(powerDb(s) - powerDb(m));
            im.monoLossDb.push_back(l + r > 0.0 ? powerDb(2.0 * m) - powerDb(l + r) : kNaN);
        }
        double kl = 0, kr = 0, km = 0;
        const math::KWeighting kw = design::designKWeighting(d.fs);
        for (int k = 1; k < d.bins; ++k) {
            const double w = kPowerGain(kw, d.fs, k * binHz);
            kl += w * P[0][static_cast<std::size_t>(k)];
            kr += w * P[1][static_cast<std::size_t>(k)];
            km += w * P[2][static_cast<std::size_t>(k)];
        }
        if (kl + kr > 0.0) {
            im.monoLossLu = powerDb(2.0 * km) - powerDb(kl + kr);
        }
        if (kl > 0.0 && kr > 0.0) {
            im.balanceDb = powerDb(kl) - powerDb(kr);
        }
    }
}

const LongTermSpectrum& SpectralAnalyzer::spectrum() const {
    return m_impl->spectrum;
}
const Spectrogram& SpectralAnalyzer::spectrogram() const {
    return m_impl->gram;
}
const StereoImage& SpectralAnalyzer::stereo() const {
    return m_impl->image;
}

std::vector<double> octaveBandCentres() {
    std::vector<double> c;
    for (double f = 31.25; f < 17000.0; f *= 2.0) {
        c.push_back(f);
    }
    return c;
}

double bandPower(const LongTermSpectrum& s, int channels, double lowHz, double highHz) {
    double sum = 0.0;
    const std::size_t curves = std::min(static_cast<std::size_t>(std::max(channels, 0)), s.power.size());
    if (s.binHz <= 0.0) {
        return 0.0;
    }
    for (std::size_t c = 0; c < curves; ++c) {
        const std::size_t first =
            std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(lowHz / s.binHz)));
        for (std::size_t b = first; b < s.power[c].size() && static_cast<double>(b) * s.binHz < highHz; ++b) {
            sum += s.power[c][b];
        }
    }
    return sum;
}

std::vector<double> summedChannelPower(const LongTermSpectrum& s, int channels) {
    std::vector<double> sum(s.power.empty() ? 0 : s.power[0].size(), 0.0);
    const std::size_t curves = std::min(static_cast<std::size_t>(std::max(channels, 0)), s.power.size());
    for (std::size_t c = 0; c < curves; ++c) {
        for (std::size_t b = 0; b < sum.size(); ++b) {
            sum[b] += s.power[c][b];
        }
    }
    return sum;
}

} // namespace lathe
