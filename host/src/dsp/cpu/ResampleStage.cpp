// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/Error.h>
#include <lathe/ResampleStage.h>

#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace lathe {

struct ResampleStage::Impl {
    SampleRate targetRate;
    unsigned threads;
    SampleRate sourceRate = 0;
    int channels = 0;
    soxr_t soxr = nullptr;
    Frames inputFrames = 0;   // consumed so far
    Frames emittedFrames = 0; // produced so far
    bool flushed = false;

    ~Impl() {
        if (soxr != nullptr) {
            soxr_delete(soxr);
        }
    }

    bool passThrough() const { return sourceRate == targetRate; }

    /// Runs soxr on `count` frames of `in` (or end-of-input when in == nullptr), appending to out.
    void run(const AudioBuffer* in, Frames count, AudioBuffer& out) {
        std::vector<const float*> src(static_cast<std::size_t>(channels));
        std::vector<float*> dst(static_cast<std::size_t>(channels));
        Frames consumed = 0;
        for (;;) {
            const Frames room =
                std::max<Frames>(4096, convertedFrames(count - consumed, sourceRate, targetRate) + 64);
            const Frames start = out.frames();
            out.setFrames(start + room);
            for (int c = 0; c < channels; ++c) {
                if (in != nullptr) {
                    src[static_cast<std::size_t>(c)] = in->channel(c) + consumed;
                }
                dst[static_cast<std::size_t>(c)] = out.channel(c) + start;
            }
            std::size_t idone = 0;
            std::size_t odone = 0;
            const soxr_error_t err =
                soxr_process(soxr, in != nullptr ? static_cast<soxr_in_t>(src.data()) : nullptr,
                             static_cast<std::size_t>(in != nullptr ? count - consumed : 0), &idone,
                             static_cast<soxr_out_t>(dst.data()), static_cast<std::size_t>(room), &odone);
            if (err != nullptr) {
                throw Error(ErrorKind::Internal, std::string("resampler failed: ") + err);
            }
            out.setFrames(start + static_cast<Frames>(odone));
            consumed += static_cast<Frames>(idone);
            // Input: loop until all input is taken and soxr stops filling the output completely.
            // End of input: loop until soxr has nothing more to give.
            const bool outputFull = static_cast<Frames>(odone) == room;
            if (in != nullptr ? (consumed >= count && !outputFull) : odone == 0) {
                break;
            }
        }
    }
};

ResampleStage::ResampleStage(SampleRate targetRate, unsigned threads) : m_impl(std::make_unique<Impl>()) {
    if (targetRate < kMinSampleRate || targetRate > kMaxSampleRate) {
        throw UsageError("output sample rate " + std::to_string(targetRate) + " Hz is outside " +
                         std::to_string(kMinSampleRate) + "–" + std::to_string(kMaxSampleRate) + " Hz");
    }
    m_impl->targetRate = targetRate;
    m_impl->threads = std::max(1u, threads);
}

ResampleStage::~ResampleStage() = default;

StreamFormat ResampleStage::prepare(const StreamFormat& input, Frames /*maxBlockFrames*/) {
    Impl& d = *m_impl;
    d.sourceRate = input.sampleRate;
    d.channels = input.channels;
    if (!d.passThrough()) {
        const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_S, SOXR_FLOAT32_S);
        // Very high quality: 28-bit precision, linear phase, passband 0.913 of the lower Nyquist
        // with <= 0.01 dB roll-off (SOXR_ROLLOFF_SMALL), stopband from Nyquist. The same recipe as
        // `sox rate -v`.
        const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_VHQ, SOXR_ROLLOFF_SMALL);
        const soxr_runtime_spec_t runtime = soxr_runtime_spec(d.threads);
        soxr_error_t err = nullptr;
        d.soxr = soxr_create(d.sourceRate, d.targetRate, static_cast<unsigned>(d.channels), &err, &io,
                             &quality, &runtime);
        if (err != nullptr || d.soxr == nullptr) {
            throw Error(ErrorKind::Internal,
                        std::string("cannot create the resampler: ") + (err ? err : "unknown"));
        }
    }
    StreamFormat out = input;
    out.sampleRate = d.targetRate;
    return out;
}

bool ResampleStage::altersSamples() const {
    return !m_impl->passThrough();
}

void ResampleStage::process(const AudioBuffer& in, AudioBuffer& out) {
    Impl& d = *m_impl;
    out.reset(d.channels, 0);
    d.inputFrames += in.frames();
    if (d.passThrough()) {
        out.append(in, 0, in.frames());
        d.emittedFrames += in.frames();
        return;
    }
    d.run(&in, in.frames(), out);
    d.emittedFrames += out.frames();
}

void ResampleStage::flush(AudioBuffer& out) {
    Impl& d = *m_impl;
    out.reset(d.channels, 0);
    if (d.flushed) {
        return;
    }
    d.flushed = true;
    if (!d.passThrough()) {
        d.run(nullptr, 0, out);
    }
    // Exact length contract: round(input × ratio) frames in total. soxr's final output may differ
    // from that by a frame or two of filter tail; trim or zero-pad the end accordingly.
    const Frames wanted = convertedFrames(d.inputFrames, d.sourceRate, d.targetRate);
    const Frames total = d.emittedFrames + out.frames();
    if (total > wanted) {
        out.setFrames(std::max<Frames>(0, out.frames() - (total - wanted)));
        LATHE_EXPECTS(d.emittedFrames <= wanted, "resampler emitted more than the whole output early");
    } else if (total < wanted) {
        const Frames start = out.frames();
        out.setFrames(start + (wanted - total));
        for (int c = 0; c < d.channels; ++c) {
            std::fill(out.channel(c) + start, out.channel(c) + out.frames(), 0.0f);
        }
    }
    d.emittedFrames += out.frames();
}

std::vector<float> resampleSignal(const std::vector<float>& x, SampleRate from, SampleRate to) {
    if (from == to) {
        return x;
    }
    const Frames outFrames = convertedFrames(static_cast<Frames>(x.size()), from, to);
    std::vector<float> y(static_cast<std::size_t>(outFrames));
    if (y.empty() || x.empty()) {
        return y; // soxr_oneshot crashes on an empty output buffer (found by fuzz/FuzzImpulseResponse)
    }
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_VHQ, SOXR_ROLLOFF_SMALL);
    std::size_t done = 0;
    const soxr_error_t err = soxr_oneshot(from, to, 1, x.data(), x.size(), nullptr, y.data(), y.size(), &done,
                                          &io, &quality, nullptr);
    if (err != nullptr) {
        throw Error(ErrorKind::Internal, std::string("resampler failed: ") + err);
    }
    y.resize(done);
    y.resize(static_cast<std::size_t>(outFrames), 0.0f);
    return y;
}

} // namespace lathe
