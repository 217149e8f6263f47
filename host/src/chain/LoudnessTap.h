// Lathe (engine-private): the loudness of a render's output, measured while it is written.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Loudness.h>
#include <lathe/RenderJob.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace lathe::detail {

/// An OutputTap that runs measureLoudness over the output on a thread of its own as the render
/// writes it, instead of reading the finished file again (the loudness targeting measures every
/// file it writes: on the H200 machine each reading of an hour took 0.87 s). The figures are the
/// file's: the meter sees the same samples in the same blocks as a reader of the file.
/// Memory is bounded: the render waits when the meter is kLagFrames behind.
class LoudnessTap final : public OutputTap {
public:
    /// `name` names the output in the meter's messages; `control`'s cancel flag is honoured (its
    /// progress is not called: the render reports progress).
    LoudnessTap(std::string name, LoudnessOptions options, Backend& backend, const JobControl& control);
    /// Stops a measurement still running (the render failed) and waits for its thread.
    ~LoudnessTap() override;
    LoudnessTap(const LoudnessTap&) = delete;
    LoudnessTap& operator=(const LoudnessTap&) = delete;

    void begin(SampleRate rate, int channels, const ChannelLayout& layout, Frames length) override;
    void write(const AudioBuffer& block) override;
    void finish() override;

    /// The measurement, once finish() has been called; rethrows the meter's error.
    LoudnessResult result();

private:
    class Pipe;
    std::string m_name;
    LoudnessOptions m_options;
    Backend& m_backend;
    JobControl m_control;
    std::unique_ptr<Pipe> m_pipe;
    std::thread m_thread;
    std::optional<LoudnessResult> m_result;
    std::exception_ptr m_error;
};

} // namespace lathe::detail
