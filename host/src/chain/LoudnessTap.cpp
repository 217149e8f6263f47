// SPDX-License-Identifier: GPL-3.0-or-later
#include "LoudnessTap.h"

#include <lathe/Error.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

namespace lathe::detail {
namespace {

/// How far the meter may fall behind the render before the render waits: four of the render's
/// blocks (about 2 MB of stereo), at least one meter read.
constexpr Frames kLagFrames = 4 * 65536;

/// A tap's job control: the cancel flag alone (the render reports progress).
JobControl cancelOnly(const JobControl& control) {
    JobControl c;
    c.cancel = control.cancel;
    return c;
}

} // namespace

/// The output as an AudioSource for the consumer: blocks from the render's thread, reads from the
/// consumer's. A read fills all it asks for unless the output has ended, as a file reader does, so
/// the meter sees the blocks it would see reading the file.
class SourceTap::Pipe final : public AudioSource {
public:
    Pipe(std::string name, SampleRate rate, int channels, ChannelLayout layout, Frames length)
        : m_name(std::move(name)), m_rate(rate), m_channels(channels), m_layout(std::move(layout)),
          m_length(length) {}

    std::string sourceName() const override { return m_name; }
    SampleRate sampleRate() const override { return m_rate; }
    int channelCount() const override { return m_channels; }
    ChannelLayout channelLayout() const override { return m_layout; }
    Frames totalFrames() const override { return m_length; }
    int integerBits() const override { return 0; }

    Frames read(AudioBuffer& dst, Frames maxFrames) override {
        dst.reset(m_channels, maxFrames);
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_stopped || m_ended || m_queued >= maxFrames; });
        if (m_stopped) {
            throw CancelledError(); // the render failed: nobody wants the figures
        }
        const Frames n = std::min(maxFrames, m_queued);
        dst.setFrames(n);
        for (Frames done = 0; done < n;) {
            AudioBuffer& front = m_queue.front();
            const Frames take = std::min(n - done, front.frames() - m_frontOffset);
            for (int c = 0; c < m_channels; ++c) {
                std::copy_n(front.channel(c) + m_frontOffset, take, dst.channel(c) + done);
            }
            done += take;
            m_frontOffset += take;
            if (m_frontOffset == front.frames()) {
                m_spare.push_back(std::move(front));
                m_queue.pop_front();
                m_frontOffset = 0;
            }
        }
        m_queued -= n;
        m_cv.notify_all();
        return n;
    }

    /// Queues a copy of `block`; waits while the meter is kLagFrames behind. Dropped once the
    /// meter has stopped (its error is the tap's result).
    void push(const AudioBuffer& block) {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_consumerDone || m_queued < kLagFrames; });
        if (m_consumerDone || block.frames() == 0) {
            return;
        }
        AudioBuffer copy;
        if (!m_spare.empty()) {
            copy = std::move(m_spare.back());
            m_spare.pop_back();
        }
        lock.unlock(); // the copy outside the lock: the meter may read meanwhile
        copy.reset(m_channels, block.frames());
        copy.append(block, 0, block.frames());
        lock.lock();
        m_queued += copy.frames();
        m_queue.push_back(std::move(copy));
        m_cv.notify_all();
    }

    /// The output is complete: the meter reads to the end.
    void end() { set(m_ended); }
    /// The render failed: the meter's next read throws CancelledError.
    void stop() { set(m_stopped); }
    /// The meter has returned (or thrown): pushes are dropped from now on.
    void consumerDone() { set(m_consumerDone); }

private:
    void set(bool& flag) {
        {
            std::lock_guard lock(m_mutex);
            flag = true;
        }
        m_cv.notify_all();
    }

    std::string m_name;
    SampleRate m_rate;
    int m_channels;
    ChannelLayout m_layout;
    Frames m_length;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<AudioBuffer> m_queue;
    std::vector<AudioBuffer> m_spare; ///< buffers read, for the next pushes
    Frames m_frontOffset = 0;         ///< frames of the front block already read
    Frames m_queued = 0;              ///< frames queued and not yet read
    bool m_ended = false;
    bool m_stopped = false;
    bool m_consumerDone = false;
};

SourceTap::SourceTap(std::string name, Consume consume)
    : m_name(std::move(name)), m_consume(std::move(consume)) {}

SourceTap::~SourceTap() {
    if (m_thread.joinable()) {
        m_pipe->stop();
        m_thread.join();
    }
}

void SourceTap::begin(SampleRate rate, int channels, const ChannelLayout& layout, Frames length) {
    LATHE_EXPECTS(!m_pipe, "a tap sees one render");
    m_pipe = std::make_unique<Pipe>(m_name, rate, channels, layout, length);
    m_thread = std::thread([this] {
        try {
            m_consume(*m_pipe);
        } catch (...) {
            m_error = std::current_exception();
        }
        m_pipe->consumerDone();
    });
}

void SourceTap::write(const AudioBuffer& block) {
    m_pipe->push(block);
}

void SourceTap::finish() {
    m_pipe->end();
}

void SourceTap::wait() {
    LATHE_EXPECTS(m_pipe, "a tap's result before the render began");
    if (m_thread.joinable()) {
        m_thread.join();
    }
    if (m_error) {
        std::rethrow_exception(m_error);
    }
}

LoudnessTap::LoudnessTap(std::string name, LoudnessOptions options, Backend& backend,
                         const JobControl& control)
    : ResultTap(std::move(name),
                [options = std::move(options), &backend, control = cancelOnly(control)](AudioSource& output) {
                    return measureLoudness(output, options, backend, control);
                }) {}

AnalysisTap::AnalysisTap(std::string name, AnalysisOptions options, Backend& backend,
                         const JobControl& control)
    : ResultTap(std::move(name),
                [options = std::move(options), &backend, control = cancelOnly(control)](AudioSource& stream) {
                    return analyzeSource(stream, options, backend, control);
                }) {}

AnalysisResult AnalysisTap::result(const AudioFileInfo& file) {
    AnalysisResult a = computed();
    a.file = file;
    a.findings = assessReadiness(a);
    return a;
}

TeeSource::TeeSource(AudioSource& source, OutputTap& tap) : ForwardingSource(source), m_tap(tap) {
    m_tap.begin(source.sampleRate(), source.channelCount(), source.channelLayout(), source.totalFrames());
}

Frames TeeSource::read(AudioBuffer& dst, Frames maxFrames) {
    const Frames n = m_source.read(dst, maxFrames);
    if (n == 0) {
        finish();
        return 0;
    }
    LATHE_EXPECTS(dst.frames() == n, "a source's read holds the frames it returns");
    m_tap.write(dst);
    return n;
}

void TeeSource::finish() {
    if (!m_finished) {
        m_finished = true;
        m_tap.finish();
    }
}

} // namespace lathe::detail
