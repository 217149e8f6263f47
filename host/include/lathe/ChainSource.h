// Lathe: a source whose audio is another source through a chain of stages (nothing is written).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioSource.h>
#include <lathe/HostMemory.h>
#include <lathe/Stage.h>

#include <memory>
#include <vector>

namespace lathe {

/// Pulls blocks from `source`, runs them through `stages` and delivers the result, aligned as a
/// render aligns a file: the stages' total latency is removed from the front and their tails are
/// cut, so frame n of this source is input instant n (at the output rate) and there are as many
/// frames as the chain makes from the input's. For measurements of a chain's output (the loudness
/// targeting's trial, speaker renders) without a file in between.
///
/// The stages are prepared in the constructor (UsageError when one refuses the format). Memory:
/// one input block plus what the stages emit for it, in `memory` when given (the stages' backend's
/// Backend::hostMemory: a device stage then copies its blocks in and out of page-locked memory).
/// Not thread-safe; `source`, the stages and `memory` must outlive it.
class ChainSource final : public AudioSource {
public:
    ChainSource(AudioSource& source, std::vector<Stage*> stages, HostMemory* memory = nullptr);
    std::string sourceName() const override { return m_source.sourceName(); }
    SampleRate sampleRate() const override { return m_format.sampleRate; }
    int channelCount() const override { return m_format.channels; }
    ChannelLayout channelLayout() const override { return m_format.layout; }
    Frames totalFrames() const override { return m_totalFrames; }
    int integerBits() const override { return 0; }
    Frames read(AudioBuffer& dst, Frames maxFrames) override;

private:
    /// One block of the source through every stage (or, at the end, every stage's flush) appended
    /// to m_pending; false when everything has been emitted.
    bool pull();

    static constexpr Frames kBlockFrames = 65536;
    AudioSource& m_source;
    std::vector<Stage*> m_stages;
    StreamFormat m_format;
    Frames m_totalFrames = 0;
    Frames m_toSkip = 0;    ///< latency frames still to drop from the front
    Frames m_remaining = 0; ///< aligned frames still to deliver
    AudioBuffer m_in, m_a, m_b;
    /// Emitted frames not yet delivered: m_pending from frame m_delivered on. Reads advance the
    /// offset; pull() compacts before appending. (Dropping each read's frames from the front moved
    /// everything behind them: a stage that emits 2^20 frames at once — the limiter's device pass —
    /// read in 65536-frame blocks moved 64 MB per call, about 10 GB per hour of stereo.)
    AudioBuffer m_pending;
    Frames m_delivered = 0;
    bool m_sourceEnded = false;
    std::size_t m_flushing = 0; ///< first stage not yet flushed to the end
};

} // namespace lathe
