// Lathe (engine-private): a render's output (or input) measured and analysed while it is written
// (or read), on threads of their own.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "../core/ForwardingSource.h"

#include <lathe/Analysis.h>
#include <lathe/AudioSource.h>
#include <lathe/Loudness.h>
#include <lathe/RenderJob.h>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace lathe::detail {

/// An OutputTap that hands the output, as an AudioSource, to a consumer (a meter, an analysis)
/// on a thread of its own as the render writes it, instead of reading the finished file again.
/// The consumer sees the file's samples in the blocks a reader of the file would get: a read
/// fills all it asks for unless the output has ended. Memory is bounded: the render waits when
/// the consumer is kLagFrames behind.
class SourceTap final : public OutputTap {
public:
    /// Runs on the tap's thread from begin() on; what it throws is wait()'s.
    using Consume = std::function<void(AudioSource&)>;
    /// `name` names the output in the consumer's messages.
    SourceTap(std::string name, Consume consume);
    /// Stops a consumer still reading (the render failed: its next read throws CancelledError)
    /// and waits for its thread.
    ~SourceTap() override;
    SourceTap(const SourceTap&) = delete;
    SourceTap& operator=(const SourceTap&) = delete;

    void begin(SampleRate rate, int channels, const ChannelLayout& layout, Frames length) override;
    void write(const AudioBuffer& block) override;
    void finish() override;

    /// Waits for the consumer, once finish() has been called; rethrows what it threw.
    void wait();

private:
    class Pipe;
    std::string m_name;
    Consume m_consume;
    std::unique_ptr<Pipe> m_pipe;
    std::thread m_thread;
    std::exception_ptr m_error;
};

/// A SourceTap whose consumer computes one result: the base of the taps below.
template <typename Result> class ResultTap : public OutputTap {
public:
    void begin(SampleRate rate, int channels, const ChannelLayout& layout, Frames length) override {
        m_tap.begin(rate, channels, layout, length);
    }
    void write(const AudioBuffer& block) override { m_tap.write(block); }
    void finish() override { m_tap.finish(); }

protected:
    /// `compute` owns what it needs (it runs on the tap's thread until the tap is destroyed).
    ResultTap(std::string name, std::function<Result(AudioSource&)> compute)
        : m_tap(std::move(name),
                [this, compute = std::move(compute)](AudioSource& stream) { m_result = compute(stream); }) {}

    /// The result, once finish() has been called; rethrows the consumer's error.
    const Result& computed() {
        m_tap.wait();
        return *m_result;
    }

private:
    std::optional<Result> m_result;
    SourceTap m_tap; // last: its thread is stopped before the result it writes goes
};

/// The loudness of a render's output, measured while it is written (the loudness targeting
/// measures every file it writes: on the H200 machine each reading of an hour took 0.87 s). The
/// figures are the file's. `control`'s cancel flag is honoured (its progress is not called: the
/// render reports progress).
class LoudnessTap final : public ResultTap<LoudnessResult> {
public:
    LoudnessTap(std::string name, LoudnessOptions options, Backend& backend, const JobControl& control);

    /// The measurement, once finish() has been called; rethrows the meter's error.
    LoudnessResult result() { return computed(); }
};

/// The whole analysis (analyzeSource) of a stream while it is rendered — a master's input as it
/// is read (through TeeSource) or its output as it is written — equal to analyzeFile of that
/// file once result() has added the file's facts and the findings.
class AnalysisTap final : public ResultTap<AnalysisResult> {
public:
    AnalysisTap(std::string name, AnalysisOptions options, Backend& backend, const JobControl& control);

    /// The analysis with `file` (the finished file's facts, as AudioReader::info() gives them
    /// after reading it) and the findings, once finish() has been called; rethrows its error.
    AnalysisResult result(const AudioFileInfo& file);

    /// The analysis's loudness, once finish() has been called (what a LoudnessTap with the
    /// analysis's loudness options measures: a targeted pass's check reads it instead of a meter
    /// of its own); rethrows its error. result() may follow.
    const LoudnessResult& loudness() { return computed().loudness; }
};

/// Two taps seeing one output (a targeted master's pass: its meter and its analysis).
class TeeTap final : public OutputTap {
public:
    TeeTap(OutputTap& a, OutputTap& b) : m_a(a), m_b(b) {}
    void begin(SampleRate rate, int channels, const ChannelLayout& layout, Frames length) override {
        m_a.begin(rate, channels, layout, length);
        m_b.begin(rate, channels, layout, length);
    }
    void write(const AudioBuffer& block) override {
        m_a.write(block);
        m_b.write(block);
    }
    void finish() override {
        m_a.finish();
        m_b.finish();
    }

private:
    OutputTap& m_a;
    OutputTap& m_b;
};

/// A source that shows a tap every block read from it, as it is read (a master's input, to its
/// analysis): begin() at construction, each block's frames as read() returns them, finish() at
/// the end (a read of 0 frames, or finish() by the caller when reading stops early). Everything
/// else is the source's own (ForwardingSource).
class TeeSource final : public ForwardingSource {
public:
    TeeSource(AudioSource& source, OutputTap& tap);

    Frames read(AudioBuffer& dst, Frames maxFrames) override;

    /// The tap's finish(), once (a later read of 0 frames does not repeat it).
    void finish();

private:
    OutputTap& m_tap;
    bool m_finished = false;
};

} // namespace lathe::detail
