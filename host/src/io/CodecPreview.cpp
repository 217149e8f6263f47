// Lathe: codec round trips with FFmpeg's libavcodec/libswresample, measured as they stream.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "../core/ParallelJobs.h"

#include <lathe/AudioWriter.h>
#include <lathe/Batch.h>
#include <lathe/CodecPreview.h>
#include <lathe/Error.h>
#include <lathe/JsonReport.h>
#include <lathe/Spectrum.h>
#include <lathe/Text.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>

namespace lathe {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

/// Codecs run at the file's rate when they take it and it is a delivery rate; above 48 kHz (the
/// platforms' ingestion resamples) or where the codec cannot (Opus), at 48 kHz.
constexpr SampleRate kCodecFallbackRate = 48000;
/// Samples converted per call of the input side (one reader block is split into these).
constexpr Frames kReadFrames = 16384;
/// Larger samples (+80 dBFS) are refused: no master carries them, and FFmpeg's AAC encoder rejects
/// near-infinite input ("Input contains (near) NaN/+-Inf") instead of encoding it.
constexpr float kLargestEncodableSample = 1e4f;
/// Where the codec's low-pass counts as begun: the decoded 1/6-octave curve this far below the
/// original's, searched from kBandwidthSearchHz up.
constexpr double kBandwidthDropDb = -10.0;
constexpr double kBandwidthSearchHz = 4000.0;

/// FFmpeg's log goes nowhere: the library does not print (its errors arrive as return codes).
void silenceFfmpegLog() {
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_level(AV_LOG_QUIET); });
}

std::string avError(int code) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, buf, sizeof buf);
    return buf;
}

struct CodecContextDeleter {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameDeleter {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwrDeleter {
    void operator()(SwrContext* s) const { swr_free(&s); }
};
struct FifoDeleter {
    void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }
};
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;
using FifoPtr = std::unique_ptr<AVAudioFifo, FifoDeleter>;

/// `input` through one codec (encode, decode at once), as a source of decoded planar float at the
/// codec's rate, aligned with the input (priming removed) and exactly as long as the input.
class RoundTripSource final : public AudioSource {
public:
    RoundTripSource(AudioSource& input, const PlatformCodec& codec) : m_input(input), m_codec(codec) {
        silenceFfmpegLog();
        const int channels = input.channelCount();
        if (channels < 1 || channels > 2) {
            throw UsageError("codec previews are for mono or stereo masters (this one has " +
                             std::to_string(channels) + " channels)");
        }
        const AVCodec* encoder = avcodec_find_encoder_by_name(codec.encoder.c_str());
        if (encoder == nullptr) {
            throw UsageError("this FFmpeg build has no '" + codec.encoder + "' encoder (needed for " +
                             codec.name + ")");
        }
        m_rate = chooseRate(encoder, input.sampleRate());
        m_enc.reset(avcodec_alloc_context3(encoder));
        check(m_enc != nullptr ? 0 : AVERROR(ENOMEM), "avcodec_alloc_context3");
        m_enc->sample_fmt = chooseFormat(encoder);
        m_enc->sample_rate = m_rate;
        // The table's rates are for stereo; mono gets half (libvorbis refuses 320 kbps mono).
        m_enc->bit_rate = static_cast<std::int64_t>(codec.bitrateKbps) * 1000 * channels / 2;
        av_channel_layout_default(&m_enc->ch_layout, channels);
        m_enc->time_base = AVRational{1, m_rate};
        m_enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER; // extradata for the decoder (AAC, Vorbis, Opus)
        check(avcodec_open2(m_enc.get(), encoder, nullptr), "opening the encoder");
        m_priming = m_enc->initial_padding;
        m_frameSize = m_enc->frame_size > 0 ? m_enc->frame_size : 1024;
        m_padLast =
            (encoder->capabilities & (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE)) == 0;

        const AVCodec* decoder = avcodec_find_decoder(encoder->id);
        if (decoder == nullptr) {
            throw UsageError("this FFmpeg build has no decoder for " + codec.name);
        }
        m_dec.reset(avcodec_alloc_context3(decoder));
        check(m_dec != nullptr ? 0 : AVERROR(ENOMEM), "avcodec_alloc_context3");
        m_dec->sample_rate = m_rate;
        check(av_channel_layout_copy(&m_dec->ch_layout, &m_enc->ch_layout), "av_channel_layout_copy");
        if (m_enc->extradata_size > 0) {
            m_dec->extradata = static_cast<std::uint8_t*>(
                av_mallocz(static_cast<std::size_t>(m_enc->extradata_size) + AV_INPUT_BUFFER_PADDING_SIZE));
            check(m_dec->extradata != nullptr ? 0 : AVERROR(ENOMEM), "av_mallocz");
            std::memcpy(m_dec->extradata, m_enc->extradata, static_cast<std::size_t>(m_enc->extradata_size));
            m_dec->extradata_size = m_enc->extradata_size;
        }
        // Decoders that know the priming (Opus, MP3) would drop it themselves and AAC's would not:
        // with SKIP_MANUAL none does, and the encoder's initial_padding is removed here for all.
        m_dec->flags2 |= AV_CODEC_FLAG2_SKIP_MANUAL;
        check(avcodec_open2(m_dec.get(), decoder, nullptr), "opening the decoder");

        SwrContext* swr = nullptr;
        AVChannelLayout layout{};
        av_channel_layout_default(&layout, channels);
        check(swr_alloc_set_opts2(&swr, &layout, m_enc->sample_fmt, m_rate, &layout, AV_SAMPLE_FMT_FLTP,
                                  input.sampleRate(), 0, nullptr),
              "swr_alloc_set_opts2");
        m_toEncoder.reset(swr);
        check(swr_init(m_toEncoder.get()), "swr_init");
        m_fifo.reset(av_audio_fifo_alloc(m_enc->sample_fmt, channels, m_frameSize * 4));
        check(m_fifo != nullptr ? 0 : AVERROR(ENOMEM), "av_audio_fifo_alloc");
        m_frame.reset(av_frame_alloc());
        m_decoded.reset(av_frame_alloc());
        m_packet.reset(av_packet_alloc());
        check(m_frame && m_decoded && m_packet ? 0 : AVERROR(ENOMEM), "av_frame_alloc");
        m_total = convertedFrames(input.totalFrames(), input.sampleRate(), m_rate);
        m_pending.reset(channels, 0);
    }

    ~RoundTripSource() override {
        if (m_converted != nullptr) {
            av_freep(&m_converted[0]);
            av_freep(&m_converted);
        }
    }
    RoundTripSource(const RoundTripSource&) = delete;
    RoundTripSource& operator=(const RoundTripSource&) = delete;

    std::string sourceName() const override { return m_input.sourceName() + " (" + m_codec.name + ")"; }
    SampleRate sampleRate() const override { return m_rate; }
    int channelCount() const override { return m_input.channelCount(); }
    ChannelLayout channelLayout() const override { return m_input.channelLayout(); }
    Frames totalFrames() const override { return m_total; }
    int integerBits() const override { return 0; }
    Frames primingFrames() const { return m_priming; }

    Frames read(AudioBuffer& dst, Frames maxFrames) override {
        while (m_pending.frames() < maxFrames && m_delivered + m_pending.frames() < m_total && !m_drained) {
            step();
        }
        if (m_drained && m_delivered + m_pending.frames() < m_total) {
            // A decoder that gave back fewer frames than went in (none of ours, but never short).
            const Frames missing = m_total - m_delivered - m_pending.frames();
            AudioBuffer zeros(channelCount(), missing);
            zeros.setFrames(missing);
            zeros.clear();
            m_pending.append(zeros, 0, missing);
        }
        const Frames n =
            std::min({std::max<Frames>(maxFrames, 0), m_pending.frames(), m_total - m_delivered});
        dst.reset(channelCount(), n);
        dst.append(m_pending, 0, n);
        m_pending.dropFront(n);
        m_delivered += n;
        return n;
    }

private:
    void check(int rc, const char* what) const {
        if (rc < 0) {
            throw Error(ErrorKind::Internal, m_codec.name + ": " + what + " failed: " + avError(rc));
        }
    }

    static SampleRate chooseRate(const AVCodec* encoder, SampleRate input) {
        const SampleRate wanted = input <= kCodecFallbackRate ? input : kCodecFallbackRate;
        if (encoder->supported_samplerates == nullptr) {
            return wanted;
        }
        for (const int* r = encoder->supported_samplerates; *r != 0; ++r) {
            if (*r == wanted) {
                return wanted;
            }
        }
        return kCodecFallbackRate;
    }

    static AVSampleFormat chooseFormat(const AVCodec* encoder) {
        if (encoder->sample_fmts == nullptr) {
            return AV_SAMPLE_FMT_FLTP;
        }
        for (const AVSampleFormat* f = encoder->sample_fmts; *f != AV_SAMPLE_FMT_NONE; ++f) {
            if (*f == AV_SAMPLE_FMT_FLTP || *f == AV_SAMPLE_FMT_FLT) {
                return *f;
            }
        }
        return encoder->sample_fmts[0];
    }

    /// Converted samples of `count` input frames (nullptr: the resampler's remainder) into the FIFO.
    void toFifo(const std::uint8_t** in, int count) {
        const int room = swr_get_out_samples(m_toEncoder.get(), count);
        check(room, "swr_get_out_samples");
        if (room > m_convertedCapacity) {
            if (m_converted != nullptr) {
                av_freep(&m_converted[0]);
                av_freep(&m_converted);
            }
            check(av_samples_alloc_array_and_samples(&m_converted, nullptr, channelCount(), room,
                                                     m_enc->sample_fmt, 0),
                  "av_samples_alloc_array_and_samples");
            m_convertedCapacity = room;
        }
        const int got = swr_convert(m_toEncoder.get(), m_converted, room, in, count);
        check(got, "swr_convert");
        if (got > 0) {
            check(av_audio_fifo_write(m_fifo.get(), reinterpret_cast<void**>(m_converted), got),
                  "av_audio_fifo_write");
        }
    }

    void step() {
        if (!m_inputEnded) {
            const Frames n = m_input.read(m_in, kReadFrames);
            if (n > 0) {
                checkFinite(n); // an encoder fed NaN may assert (FFmpeg's AAC encoder aborts)
                std::vector<const std::uint8_t*> planes(static_cast<std::size_t>(channelCount()));
                for (int c = 0; c < channelCount(); ++c) {
                    planes[static_cast<std::size_t>(c)] =
                        reinterpret_cast<const std::uint8_t*>(m_in.channel(c));
                }
                toFifo(planes.data(), static_cast<int>(n));
            } else {
                m_inputEnded = true;
                toFifo(nullptr, 0);
            }
        }
        while (av_audio_fifo_size(m_fifo.get()) >= m_frameSize ||
               (m_inputEnded && av_audio_fifo_size(m_fifo.get()) > 0)) {
            encodeFrame(std::min(m_frameSize, av_audio_fifo_size(m_fifo.get())));
        }
        if (m_inputEnded && !m_drained) {
            sendFrame(nullptr);
            decodePacket(nullptr);
            m_drained = true;
        }
    }

    /// Refuses what no encoder should see: NaN/Inf and samples beyond kLargestEncodableSample.
    void checkFinite(Frames n) {
        for (int c = 0; c < channelCount(); ++c) {
            const float* x = m_in.channel(c);
            for (Frames i = 0; i < n; ++i) {
                if (!std::isfinite(x[i])) {
                    throw AudioContentError(m_input.sourceName(),
                                            "non-finite sample (NaN or Inf) at frame " +
                                                std::to_string(m_read + i) + ", channel " +
                                                std::to_string(c + 1),
                                            c, m_read + i);
                }
                if (std::fabs(x[i]) > kLargestEncodableSample) {
                    throw AudioContentError(m_input.sourceName(),
                                            "sample at frame " + std::to_string(m_read + i) + ", channel " +
                                                std::to_string(c + 1) + " is " +
                                                formatFixed(20.0 * std::log10(std::fabs(x[i])), 0) +
                                                " dBFS: far beyond what a codec can encode",
                                            c, m_read + i);
                }
            }
        }
        m_read += n;
    }

    void encodeFrame(int samples) {
        AVFrame* f = m_frame.get();
        av_frame_unref(f);
        f->nb_samples = m_padLast ? m_frameSize : samples;
        f->format = m_enc->sample_fmt;
        f->sample_rate = m_rate;
        check(av_channel_layout_copy(&f->ch_layout, &m_enc->ch_layout), "av_channel_layout_copy");
        check(av_frame_get_buffer(f, 0), "av_frame_get_buffer");
        if (f->nb_samples > samples) {
            av_samples_set_silence(f->extended_data, samples, f->nb_samples - samples, channelCount(),
                                   m_enc->sample_fmt);
        }
        check(av_audio_fifo_read(m_fifo.get(), reinterpret_cast<void**>(f->extended_data), samples),
              "av_audio_fifo_read");
        f->pts = m_pts;
        m_pts += f->nb_samples;
        sendFrame(f);
    }

    void sendFrame(const AVFrame* f) {
        check(avcodec_send_frame(m_enc.get(), f), "avcodec_send_frame");
        for (;;) {
            const int rc = avcodec_receive_packet(m_enc.get(), m_packet.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) {
                return;
            }
            check(rc, "avcodec_receive_packet");
            decodePacket(m_packet.get());
            av_packet_unref(m_packet.get());
        }
    }

    void decodePacket(const AVPacket* p) {
        check(avcodec_send_packet(m_dec.get(), p), "avcodec_send_packet");
        for (;;) {
            const int rc = avcodec_receive_frame(m_dec.get(), m_decoded.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) {
                return;
            }
            check(rc, "avcodec_receive_frame");
            appendDecoded(*m_decoded);
            av_frame_unref(m_decoded.get());
        }
    }

    /// A decoded frame as planar float, the priming dropped, into m_pending.
    void appendDecoded(const AVFrame& f) {
        if (!m_fromDecoder) {
            SwrContext* swr = nullptr;
            AVChannelLayout layout{}; // FFmpeg 5.1 takes non-const layouts
            check(av_channel_layout_copy(&layout, &f.ch_layout), "av_channel_layout_copy");
            check(swr_alloc_set_opts2(&swr, &layout, AV_SAMPLE_FMT_FLTP, f.sample_rate, &layout,
                                      static_cast<AVSampleFormat>(f.format), f.sample_rate, 0, nullptr),
                  "swr_alloc_set_opts2");
            av_channel_layout_uninit(&layout);
            m_fromDecoder.reset(swr);
            check(swr_init(m_fromDecoder.get()), "swr_init");
        }
        m_out.reset(channelCount(), f.nb_samples);
        std::vector<std::uint8_t*> planes(static_cast<std::size_t>(channelCount()));
        for (int c = 0; c < channelCount(); ++c) {
            planes[static_cast<std::size_t>(c)] = reinterpret_cast<std::uint8_t*>(m_out.channel(c));
        }
        const int got = swr_convert(m_fromDecoder.get(), planes.data(), f.nb_samples,
                                    const_cast<const std::uint8_t**>(f.extended_data), f.nb_samples);
        check(got, "swr_convert");
        m_out.setFrames(got);
        const Frames skip = std::min<Frames>(m_priming - m_skipped, got);
        m_skipped += skip;
        m_pending.append(m_out, skip, got - skip);
    }

    AudioSource& m_input;
    PlatformCodec m_codec;
    SampleRate m_rate = 0;
    CodecContextPtr m_enc;
    CodecContextPtr m_dec;
    SwrPtr m_toEncoder;
    SwrPtr m_fromDecoder;
    FifoPtr m_fifo;
    FramePtr m_frame;
    FramePtr m_decoded;
    PacketPtr m_packet;
    std::uint8_t** m_converted = nullptr;
    int m_convertedCapacity = 0;
    int m_frameSize = 1024;
    bool m_padLast = false;
    Frames m_priming = 0;
    Frames m_skipped = 0;
    std::int64_t m_pts = 0;
    Frames m_total = 0;
    Frames m_delivered = 0;
    Frames m_read = 0; ///< input frames read so far
    bool m_inputEnded = false;
    bool m_drained = false;
    AudioBuffer m_in, m_out, m_pending;
};

struct Measured {
    LoudnessResult loudness;
    LongTermSpectrum spectrum;
    Frames overs = 0;
    double largest = 0;
    Frames priming = 0;
    SampleRate rate = 0;
};

/// Measures `source` as it streams; with `listening`, also writes it there (32-bit float WAV,
/// committed when complete) from the same blocks, so a codec is run once for both.
Measured measure(AudioSource& source, const JobControl& control, Backend& backend,
                 const std::optional<std::filesystem::path>& listening = std::nullopt) {
    Measured m;
    m.rate = source.sampleRate();
    std::optional<AudioWriter> writer;
    std::vector<float> interleaved;
    if (listening) {
        OutputSpec spec;
        spec.format = SampleFormat::Float32;
        spec.sampleRate = source.sampleRate();
        spec.channels = source.channelCount();
        spec.layout = source.channelLayout();
        spec.expectedFrames = source.totalFrames();
        writer.emplace(*listening, spec); // a bad destination fails before the codec runs
    }
    SpectrumSettings settings;
    settings.columns = 1;
    settings.rows = 1;
    SpectralAnalyzer spectral(source.sampleRate(), source.channelLayout(), source.totalFrames(), settings,
                              &backend); // its frames on the device when it has Capability::Spectrum
    LoudnessOptions lo;
    lo.threads = 1; // the codecs run in parallel instead
    lo.blockTap = [&](const AudioBuffer& block, Frames, std::span<const math::SampleStats>) {
        spectral.add(block);
        if (writer) {
            interleaved.resize(static_cast<std::size_t>(block.frames() * block.channels()));
            interleave(block, 0, block.frames(), interleaved.data());
            writer->writeFloat(interleaved.data(), block.frames());
        }
        for (int c = 0; c < block.channels(); ++c) {
            const float* x = block.channel(c);
            for (Frames i = 0; i < block.frames(); ++i) {
                const double a = std::fabs(static_cast<double>(x[i]));
                m.overs += a > 1.0 ? 1 : 0;
                m.largest = std::max(m.largest, a);
            }
        }
    };
    m.loudness = measureLoudness(source, lo, backend, control);
    spectral.finish();
    m.spectrum = spectral.spectrum();
    if (writer) {
        writer->commit();
    }
    return m;
}

std::optional<double> bandwidthOf(const LongTermSpectrum& original, const LongTermSpectrum& decoded,
                                  int channels) {
    const std::vector<double> hz = displayFrequencies(original.sampleRate);
    auto curve = [&](const LongTermSpectrum& s) {
        return sampleBins(smoothFractionalOctave(summedChannelPower(s, channels), 6), s.binHz, hz);
    };
    const std::vector<double> a = curve(original);
    const std::vector<double> b = curve(decoded);
    for (std::size_t k = 0; k < hz.size(); ++k) {
        if (hz[k] >= kBandwidthSearchHz && hz[k] < 0.5 * decoded.sampleRate && a[k] > 0.0 &&
            10.0 * std::log10(std::max(b[k], 1e-30) / a[k]) < kBandwidthDropDb) {
            return hz[k];
        }
    }
    return std::nullopt;
}

/// Seconds per 10 minutes of 48 kHz stereo on the development machine (ffmpeg -c:a X -f null),
/// for the order of the jobs only; the original's measurement costs about 1.
double encoderCost(const std::string& encoder) {
    if (encoder == "aac") {
        return 15.1; // the native encoder's two-loop search
    }
    if (encoder == "libmp3lame") {
        return 6.8;
    }
    if (encoder == "libvorbis") {
        return 6.0;
    }
    return 4.7; // libopus
}

} // namespace

bool codecPreviewAvailable() {
    return true;
}

CodecPreviewResult previewCodecs(const std::filesystem::path& input, const CodecPreviewOptions& options,
                                 Backend& backend, const JobControl& control) {
    const auto t0 = Clock::now();
    const std::vector<PlatformCodec> codecs =
        options.codecs.empty() ? builtinPlatformCodecs() : options.codecs;
    CodecPreviewResult result;
    result.source = input.string();
    Frames frames = 0;
    result.bandCentresHz = octaveBandCentres();
    {
        AudioReader probe(input, options.reader); // InputError now, before any thread starts
        if (probe.info().channels > 2) {
            throw UsageError("codec previews are for mono or stereo masters (" + input.string() + " has " +
                             std::to_string(probe.info().channels) + " channels)");
        }
        if (probe.info().frames <= 0) {
            throw AudioContentError(input, "no audio (0 frames)");
        }
        result.warnings = probe.info().warnings;
        frames = probe.info().frames;
    }
    // Job 0 measures the original; job k the codec k − 1. Each is single-threaded. They start
    // longest first (the encoders' relative costs, measured: bench/RESULTS.md), so that the slow
    // AAC encoder does not start last and leave one core idle at the end.
    const std::size_t count = codecs.size() + 1;
    std::vector<std::size_t> order(count);
    for (std::size_t k = 0; k < count; ++k) {
        order[k] = k;
    }
    auto cost = [&](std::size_t k) { return k == 0 ? 1.0 : encoderCost(codecs[k - 1].encoder); };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return cost(a) > cost(b); });
    std::vector<Measured> measured(count);
    auto listeningPath = [&](std::size_t codec) -> std::optional<std::filesystem::path> {
        if (!options.renderDir) {
            return std::nullopt;
        }
        return *options.renderDir / (input.stem().string() + "." + codecs[codec].id + ".wav");
    };
    // Codecs at another rate than the file's count a little more than their share.
    detail::runParallelJobs(order, options.jobs > 0 ? options.jobs : batch::availableCpus(), control,
                            "codecs", frames * static_cast<Frames>(count),
                            [&](std::size_t k, const JobControl& jc) {
                                AudioReader reader(input, options.reader);
                                if (k == 0) {
                                    measured[k] = measure(reader, jc, backend);
                                } else {
                                    RoundTripSource trip(reader, codecs[k - 1]);
                                    measured[k] = measure(trip, jc, backend, listeningPath(k - 1));
                                    measured[k].priming = trip.primingFrames();
                                }
                            });
    result.original = measured[0].loudness;
    const int channels = result.original.channels;
    const LongTermSpectrum& so = measured[0].spectrum;
    for (std::size_t k = 1; k < count; ++k) {
        const Measured& m = measured[k];
        CodecRoundTrip r;
        r.codec = codecs[k - 1];
        r.codecRate = m.rate;
        r.primingFrames = m.priming;
        r.decoded = m.loudness;
        if (m.loudness.integratedLufs && result.original.integratedLufs) {
            r.loudnessChangeLu = *m.loudness.integratedLufs - *result.original.integratedLufs;
        }
        if (m.loudness.truePeakDbtp && result.original.truePeakDbtp) {
            r.truePeakChangeDb = m.loudness.truePeakDbtp->value - result.original.truePeakDbtp->value;
        }
        r.samplesOverFullScale = m.overs;
        r.largestSample = m.largest;
        for (double c : result.bandCentresHz) {
            const double lo = c / std::sqrt(2.0);
            const double hi = c * std::sqrt(2.0);
            const double a = bandPower(so, channels, lo, hi);
            const double b = bandPower(m.spectrum, channels, lo, hi);
            r.bandDifferenceDb.push_back(hi <= 0.5 * std::min(so.sampleRate, m.spectrum.sampleRate) &&
                                                 a > 0.0 && b > 0.0
                                             ? 10.0 * std::log10(b / a)
                                             : std::nan(""));
        }
        r.bandwidthHz = bandwidthOf(so, m.spectrum, channels);
        r.render = listeningPath(k - 1);
        result.codecs.push_back(std::move(r));
    }
    // The platform table with the measured post-codec figures.
    const std::vector<PlatformPreview> previews = previewPlatforms(result.original, builtinPlatforms());
    for (std::size_t i = 0; i < previews.size(); ++i) {
        PlatformCodecRow row;
        row.preview = previews[i];
        row.codecId = builtinPlatforms()[i].codec;
        const auto it = std::find_if(result.codecs.begin(), result.codecs.end(),
                                     [&](const CodecRoundTrip& c) { return c.codec.id == row.codecId; });
        if (!row.codecId.empty() && it != result.codecs.end() && it->decoded.truePeakDbtp) {
            const Platform& platform = builtinPlatforms()[i];
            const double gain = previews[i].gainDb.value_or(0.0);
            row.postCodecTruePeakDbtp = it->decoded.truePeakDbtp->value + gain;
            row.clipsAfterDecode = it->largestSample * std::pow(10.0, gain / 20.0) > 1.0;
            if (platform.limiter) {
                // The player's limiter (Spotify Loud) works on the decoded stream: its ceiling holds.
                row.postCodecTruePeakDbtp = std::min(*row.postCodecTruePeakDbtp, platform.truePeakMaxDbtp);
                row.clipsAfterDecode = false;
            }
            row.postCodecTruePeakOk = *row.postCodecTruePeakDbtp <= platform.truePeakMaxDbtp;
        }
        result.platforms.push_back(std::move(row));
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return result;
}

Json toJson(const CodecPreviewResult& r) {
    Json codecs = Json::array();
    for (const auto& c : r.codecs) {
        Json bands = Json::array();
        for (double d : c.bandDifferenceDb) {
            bands.push_back(dbOrNull(d));
        }
        codecs.push_back(
            {{"id", c.codec.id},
             {"name", c.codec.name},
             {"encoder", c.codec.encoder},
             {"bitrate_kbps", c.codec.bitrateKbps},
             {"codec_rate_hz", c.codecRate},
             {"priming_frames", c.primingFrames},
             {"integrated_lufs", dbOrNull(c.decoded.integratedLufs)},
             {"true_peak_dbtp", c.decoded.truePeakDbtp ? dbOrNull(c.decoded.truePeakDbtp->value) : Json()},
             {"loudness_change_lu", c.loudnessChangeLu},
             {"true_peak_change_db", c.truePeakChangeDb},
             {"samples_over_full_scale", c.samplesOverFullScale},
             {"largest_sample", c.largestSample},
             {"clips_after_decode", c.samplesOverFullScale > 0},
             {"band_difference_db", bands},
             {"bandwidth_hz", dbOrNull(c.bandwidthHz)},
             {"render", c.render ? Json(c.render->string()) : Json(nullptr)}});
    }
    Json platforms = Json::array();
    for (const auto& p : r.platforms) {
        Json j = toJson(std::vector<PlatformPreview>{p.preview})[0];
        j["codec"] = p.codecId.empty() ? Json(nullptr) : Json(p.codecId);
        j["post_codec_true_peak_dbtp"] = dbOrNull(p.postCodecTruePeakDbtp);
        j["post_codec_true_peak_ok"] = p.postCodecTruePeakOk ? Json(*p.postCodecTruePeakOk) : Json(nullptr);
        j["clips_after_decode"] = p.clipsAfterDecode;
        platforms.push_back(j);
    }
    return Json{
        {"source", r.source},
        {"original",
         {{"integrated_lufs", dbOrNull(r.original.integratedLufs)},
          {"true_peak_dbtp", r.original.truePeakDbtp ? dbOrNull(r.original.truePeakDbtp->value) : Json()}}},
        {"band_centres_hz", r.bandCentresHz},
        {"codecs", codecs},
        {"platforms", platforms},
        {"seconds", r.seconds}};
}

} // namespace lathe
