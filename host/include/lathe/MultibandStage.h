// Lathe: linear-phase multiband dynamics (crossover + per-band compressor/expander).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/ConvolutionStage.h>
#include <lathe/MultibandKernel.h>
#include <lathe/design/Crossover.h>
#include <lathe/design/DesignCache.h>

#include <optional>
#include <vector>

namespace lathe {

namespace detail {
class ThreadPool;
}

enum class DynamicsMode {
    Compressor, ///< downward: above the threshold, 1/ratio dB out per dB in
    Expander,   ///< downward: below the threshold, ratio dB out per dB in
    Upward,     ///< upward compressor: below the threshold quiet material is raised
};

enum class DetectorKind {
    Peak, ///< decoupled smooth peak detector on |x| (lathe/math/Dynamics.h)
    Rms,  ///< 10 ms one-pole mean square, then the same attack/release smoothing
};

struct BandDynamics {
    DynamicsMode mode = DynamicsMode::Compressor;
    double thresholdDb = -20.0;
    double ratio = 1.5;
    double kneeDb = 6.0;
    double attackMs = 10.0;
    double releaseMs = 150.0;
    double makeupDb = 0.0;
    double rangeDb = 24.0; ///< the largest gain change the curve may apply, either way
    bool bypass = false;   ///< the band passes unchanged (still part of the sum)
    bool solo = false;     ///< when any band is soloed, only soloed bands are heard
};

struct MultibandSpec {
    std::vector<double> splitsHz = {120.0, 1000.0, 6000.0};
    int slopeDbPerOctave = 24;
    std::vector<BandDynamics> bands = std::vector<BandDynamics>(4);
    double stereoLinkPercent = 100.0; ///< 100: one gain for all channels per band; 0: independent
    DetectorKind detector = DetectorKind::Peak;
    /// Stereo only: the dynamics work on mid = (L+R)/2 and side = (L−R)/2 (the "channels" of the
    /// link and the report), decoded back to L = M + S, R = M − S after the gains.
    bool midSide = false;
    int taps = 0; ///< crossover FIR length (odd); 0 = automatic
};

/// Splits every channel into bands with a linear-phase crossover (design/Crossover.h; one forward
/// FFT, one inverse per band, through the backend's Convolver), applies each band's dynamics
/// (double-precision detector state, gain computed per sample), and sums the bands. With every
/// band bypassed the output nulls against the input (the bands sum to a pure delay). Latency: the
/// crossover's centre, removed by the render. Tail: none.
///
/// Per band and channel: level = |band| (Peak) or √(mean square) (Rms), blended with the
/// loudest channel's level by the stereo link, smoothed by the decoupled detector (attack and
/// release time constants), gain = curve(level) − level clamped to ±range, plus makeup.
/// On the CPU that runs here, bands on the stage's threads (the reference); on a backend with
/// Capability::Dynamics each call's bands go to Backend::multibandDynamics (the same lathe/math
/// expressions, the recursions as scans on the device) and the stage keeps states and reports.
class MultibandStage final : public ConvolutionStage {
public:
    /// `designs` (not owned, may be null): where the crossover comes from when other renders share it.
    MultibandStage(MultibandSpec spec, Backend& backend, ConvolverOptions options = {},
                   design::DesignCache* designs = nullptr);
    ~MultibandStage() override;
    std::string name() const override { return "multiband"; }
    nlohmann::json report() const override;

private:
    Design design(const StreamFormat& input) override;
    bool combines() const override { return true; }
    void combine(const AudioBuffer& filtered, const AudioBuffer& in, AudioBuffer& out) override;
    /// combine() on a backend with Capability::Dynamics.
    void combineOnDevice(const AudioBuffer& filtered, Frames frames, AudioBuffer& out);

    MultibandSpec m_spec;
    design::CrossoverDesign m_crossover;
    design::DesignCache* m_designs;
    SampleRate m_rate = 0;
    int m_channels = 0;
    struct BandState { // what the report says of a band and channel
        double maxReductionDb = 0.0;
        double sumGainDb = 0.0;
        Frames frames = 0;
    };
    std::vector<BandState> m_state;             // [channel·K + band]
    std::vector<BandDetectorState> m_detectors; // [channel·K + band], on the host or the device
    std::unique_ptr<detail::ThreadPool> m_pool; // bands in parallel
    std::vector<std::vector<double>> m_history; // per band: largest reduction (dB, ≥ 0) per 100 ms
    Frames m_framesDone = 0;                    // filtered frames combined so far (incl. latency)
    Frames m_upstream = 0;                      // delay of the stages before this one
    unsigned m_threads = 0;
    AudioBuffer m_bandOut; // per band and channel: the band after its gain
    struct Scratch {
        std::vector<std::vector<double>> level; // per channel: level, then smoothed level
        std::vector<double> gainDb, gain, loudest, reduction;
        std::vector<float> mid, side; // mid/side: the band encoded
    };
    std::vector<Scratch> m_scratch;          // per band
    std::optional<MultibandParams> m_device; // set when the backend runs the dynamics
    MultibandCallStats m_deviceStats;
};

} // namespace lathe
