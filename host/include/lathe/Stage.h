// Lathe: a processing stage of a render chain.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/ChannelLayout.h>
#include <lathe/Types.h>

#include <nlohmann/json.hpp>

#include <string>

namespace lathe {

/// The shape of a stream between stages.
struct StreamFormat {
    SampleRate sampleRate = 0;
    int channels = 0;
    ChannelLayout layout;
    /// Frames of delay the stages before this one put on the stream (removed by the render at the
    /// end): stream frame n is input instant n − upstreamLatency. For reports over time.
    Frames upstreamLatency = 0;
};

/// One step of a chain. The render calls prepare() once, then process() for every block in order,
/// then flush() until it returns with an empty buffer.
///
/// Latency contract: a stage may delay its output. latency() is that delay in *output* frames: the
/// output frame latency()+n corresponds to input instant n (scaled by the rate ratio for rate
/// changers). The render removes the sum of all stage latencies exactly, so the file's output
/// frame n aligns with input frame n. A stage must emit, in total over process() and flush(),
/// latency() + round(input frames × ratio) + tail frames.
///
/// Tail contract: tail() is how many output frames the stage produces after the input ends beyond
/// the aligned length (a reverb's decay); the chain's tail policy decides whether they are kept.
class Stage {
public:
    virtual ~Stage() = default;

    /// Short identifier used in reports and errors ("resample", "eq", …).
    virtual std::string name() const = 0;
    /// Called once before the first block; returns the format this stage emits. May throw
    /// UsageError for unsupported input (e.g. a rate it cannot handle).
    virtual StreamFormat prepare(const StreamFormat& input, Frames maxBlockFrames) = 0;
    /// Delay in output frames (valid after prepare()).
    virtual Frames latency() const { return 0; }
    /// Frames of tail emitted after the aligned length (valid after prepare()).
    virtual Frames tail() const { return 0; }
    /// Whether this stage changes sample values (a pure copy does not); integer output of a chain
    /// that changes values is dithered under DitherMode::Auto.
    virtual bool altersSamples() const { return true; }
    /// Processes one block. `out` is resized by the stage and may hold fewer or more frames than
    /// `in` (latency, rate change).
    virtual void process(const AudioBuffer& in, AudioBuffer& out) = 0;
    /// After the last block: emits remaining frames into `out` (resized; empty when done).
    virtual void flush(AudioBuffer& out) = 0;
    /// What the stage did, for the render report (valid after prepare()): designed lengths,
    /// errors, IR facts, … Keys follow lathe/JsonReport.h's conventions.
    virtual nlohmann::json report() const { return nlohmann::json::object(); }
};

} // namespace lathe
