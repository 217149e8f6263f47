// Lathe: the chain stages built on partitioned convolution — linear-phase EQ and convolution reverb.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Backend.h>
#include <lathe/Convolution.h>
#include <lathe/Stage.h>
#include <lathe/design/DesignCache.h>
#include <lathe/design/EqDesign.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace lathe {

/// A stage whose output is a filter matrix applied to its input (by the backend's Convolver), plus
/// an optional exact dry path: out[n] = (h ∗ in)[n] + dryGain · in[n] (a stage with a dry path
/// declares no latency: the dry signal is not delayed).
///
/// Streaming: input is gathered until the convolver's preferredFrames() (24 partitions on the CPU),
/// so process() may emit fewer frames than it receives, and flush() emits the rest in pieces of at
/// most 24 partitions. Memory is O(24 partitions + filter length) per channel, independent of the
/// file length.
class ConvolutionStage : public Stage {
public:
    StreamFormat prepare(const StreamFormat& input, Frames maxBlockFrames) final;
    Frames latency() const final { return m_latency; }
    Frames tail() const final { return m_tail; }
    bool altersSamples() const final { return !m_bypass; }
    void process(const AudioBuffer& in, AudioBuffer& out) final;
    void flush(AudioBuffer& out) final;

protected:
    /// What the concrete stage designs for a format (called once, from prepare()).
    struct Design {
        FilterMatrix matrix;
        Frames latency = 0;           ///< frames of the filter's own delay (a linear-phase FIR's centre)
        Frames tail = 0;              ///< frames emitted after the aligned end
        std::optional<float> dryGain; ///< an exact dry path (inputs == outputs, latency 0) when set
        bool bypass = false;          ///< the design is the identity: samples pass bit-exactly
        /// combine() hands the matrix outputs to a backend operation that reads them on the device:
        /// the convolver may leave them there (ConvolverOptions::outputOnDevice).
        bool outputOnDevice = false;
    };
    ConvolutionStage(Backend& backend, ConvolverOptions options);
    virtual Design design(const StreamFormat& input) = 0;
    /// The backend the stage was made for.
    Backend& backend() const { return m_backend; }
    /// The stage's convolver (after prepare(), unless the design is a bypass).
    const Convolver& convolver() const { return *m_convolver; }

    /// Input frames received so far (the stream's length once flushing has begun).
    Frames inputFrames() const { return m_inputFrames; }
    /// The options the stage was made with (its thread budget, for a design on several threads).
    const ConvolverOptions& convolverOptions() const { return m_options; }
    /// Stages whose matrix has more outputs than the stream has channels (a crossover: one output
    /// per band and channel) return true and reduce them in combine().
    virtual bool combines() const { return false; }
    /// `filtered` holds the matrix outputs for the same frames as `in`; writes the stage's output
    /// (input.channels channels) into `out`. Called in stream order.
    virtual void combine(const AudioBuffer& filtered, const AudioBuffer& in, AudioBuffer& out) {
        (void)filtered;
        (void)in;
        (void)out;
    }

private:
    void run(const AudioBuffer& in, AudioBuffer& out);
    void run(AudioBuffer& pending, Frames frames, AudioBuffer& out);

    Backend& m_backend;
    ConvolverOptions m_options;
    std::unique_ptr<Convolver> m_convolver;
    std::optional<float> m_dryGain;
    bool m_bypass = false;
    Frames m_latency = 0;
    Frames m_tail = 0;
    Frames m_inputFrames = 0;
    Frames m_emitted = 0;
    int m_channels = 0;
    AudioBuffer m_pending;
    AudioBuffer m_filtered; // matrix outputs when combines()
};

/// Linear-phase EQ (lathe/design/EqDesign.h): every channel through the same symmetric FIR, or, with
/// bands placed on mid or side, a 2×2 matrix that filters M = (L+R)/2 and S = (L−R)/2 apart. On
/// input that is not stereo, mid bands apply to every channel and side bands are left out (with a
/// warning in the report).
/// Latency: the FIR's centre, (taps − 1)/2, removed exactly by the render. Tail: none — the
/// output has the input's length (the post-ringing past the last sample is not kept). A flat EQ is
/// bit-exact.
class EqStage final : public ConvolutionStage {
public:
    /// `designs` (not owned, may be null): where the design comes from when other renders share it.
    EqStage(design::EqSpec spec, Backend& backend, ConvolverOptions options = {},
            design::DesignCache* designs = nullptr);
    std::string name() const override { return "eq"; }
    /// After prepare(): the design's figures (taps, latency, pre-ring, error vs the target).
    const design::EqDesign& result() const { return m_design; }
    nlohmann::json report() const override;

private:
    Design design(const StreamFormat& input) override;
    design::EqSpec m_spec;
    design::EqDesign m_design;
    design::DesignCache* m_designs;
    SampleRate m_rate = 0;
};

/// How the reverb scales its IR before the wet gain.
enum class IrNormalization {
    Energy, ///< Σh² = 1 (averaged over output channels): 0 dB wet keeps the level of broadband noise
    None,   ///< the file's samples as they are
};

struct ReverbSpec {
    std::optional<std::filesystem::path> irFile; ///< mono, stereo, or true-stereo (4 ch: LL LR RL RR)
    std::string room;                            ///< a built-in room (design/Rooms.h) when no file
    double wetDb = -18.0;
    double dryDb = 0.0; ///< ≤ kReverbMutedDb mutes the dry path
    double predelayMs = 0.0;
    IrNormalization normalization = IrNormalization::Energy;
};

/// Gains at or below this are silence (the path is removed, not multiplied by a tiny number).
inline constexpr double kReverbMutedDb = -120.0;
/// IR samples below this, relative to the IR's peak, are trimmed from its end.
inline constexpr double kIrTrimDb = -100.0;
/// The kept tail ends where the reverb of a full-scale input is below this level for certain.
inline constexpr double kReverbTailFloorDbfs = -120.0;
/// Longest IR accepted (after resampling), in frames: 2^21 (43.7 s at 48 kHz).
inline constexpr Frames kMaxIrFrames = Frames{1} << 21;

/// Convolution reverb: out = dry · x + wet · (IR ∗ x), the IR resampled to the stream's rate
/// (libsoxr VHQ), trimmed below kIrTrimDb, normalised (unit energy by default), delayed by the
/// pre-delay. Latency 0. Tail: the smallest t with Σ_{k>t} |wet·h[k]| ≤ 10^(−120/20) on every
/// output, i.e. the reverb of any input within ±1.0 is below −120 dBFS after it (a bound, not a
/// measurement of this input). Channels: a mono IR filters each channel; a stereo IR needs stereo
/// input (L→L, R→R); a 4-channel IR is true stereo (L→L, L→R, R→L, R→R); a built-in room is stereo
/// on stereo input and its first channel, as a mono IR, on any other. Anything else, an IR
/// with NaN/Inf or no energy, is an error (UsageError for the preset, InputError for the file).
class ReverbStage final : public ConvolutionStage {
public:
    ReverbStage(ReverbSpec spec, Backend& backend, ConvolverOptions options = {});
    std::string name() const override { return "reverb"; }
    nlohmann::json report() const override;

    /// After prepare(): facts about the IR as used.
    struct Facts {
        std::string source; ///< file path or "room:<name>"
        int irChannels = 0;
        SampleRate irRate = 0;
        Frames irFrames = 0; ///< after resampling and trimming, before the pre-delay
        double normalizationDb = 0;
        Frames predelayFrames = 0;
        Frames tailFrames = 0;
    };
    const Facts& facts() const { return m_facts; }

private:
    Design design(const StreamFormat& input) override;
    ReverbSpec m_spec;
    Facts m_facts;
    SampleRate m_rate = 0;
};

} // namespace lathe
