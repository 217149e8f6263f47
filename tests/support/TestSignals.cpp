// SPDX-License-Identifier: GPL-3.0-or-later
#include "TestSignals.h"

#include <lathe/Error.h>
#include <lathe/ResampleStage.h>
#include <lathe/math/Random.h>

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>

namespace lathe::test {

std::vector<float> sine(double hz, double amplitude, SampleRate fs, Frames frames, double phase) {
    std::vector<float> out(static_cast<std::size_t>(frames));
    for (Frames n = 0; n < frames; ++n) {
        out[static_cast<std::size_t>(n)] = static_cast<float>(
            amplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(n) / fs + phase));
    }
    return out;
}

SineFit fitSine(const float* x, Frames n, double hz, SampleRate fs, Frames start) {
    // Model x ≈ a·sin(w t) + b·cos(w t): solve the 2×2 normal equations in double.
    double ss = 0, sc = 0, cc = 0, xs = 0, xc = 0;
    for (Frames i = 0; i < n; ++i) {
        const double w = 2.0 * std::numbers::pi * hz * static_cast<double>(start + i) / fs;
        const double s = std::sin(w);
        const double c = std::cos(w);
        ss += s * s;
        sc += s * c;
        cc += c * c;
        xs += x[i] * s;
        xc += x[i] * c;
    }
    const double det = ss * cc - sc * sc;
    const double a = (xs * cc - xc * sc) / det;
    const double b = (xc * ss - xs * sc) / det;
    SineFit f;
    f.amplitude = std::hypot(a, b);
    f.phase = std::atan2(b, a); // a·sin + b·cos = A·sin(w t + φ) with φ = atan2(b, a)
    double r2 = 0;
    for (Frames i = 0; i < n; ++i) {
        const double w = 2.0 * std::numbers::pi * hz * static_cast<double>(start + i) / fs;
        const double r = x[i] - (a * std::sin(w) + b * std::cos(w));
        r2 += r * r;
    }
    f.residualRms = std::sqrt(r2 / static_cast<double>(n));
    return f;
}

std::vector<float> noise(Frames frames, double amplitude, std::uint64_t seed) {
    std::vector<float> out(static_cast<std::size_t>(frames));
    for (Frames n = 0; n < frames; ++n) {
        const auto bits =
            static_cast<std::uint32_t>(math::hashCounter(seed, 0, static_cast<std::uint64_t>(n)) >> 32);
        out[static_cast<std::size_t>(n)] =
            static_cast<float>(amplitude * (2.0 * math::uniformFromBits(bits) - 1.0));
    }
    return out;
}

namespace {
SNDFILE* openWrite(const std::filesystem::path& p, int channels, SampleRate fs, int format) {
    SF_INFO info{};
    info.channels = channels;
    info.samplerate = fs;
    info.format = format;
    SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
    if (f == nullptr) {
        throw std::runtime_error("test: cannot write " + p.string() + ": " + sf_strerror(nullptr));
    }
    return f;
}
} // namespace

namespace {
template <typename T> std::vector<T> interleaved(const std::vector<std::vector<T>>& audio) {
    const std::size_t ch = audio.size();
    const std::size_t frames = audio.empty() ? 0 : audio[0].size();
    std::vector<T> inter(frames * ch);
    for (std::size_t i = 0; i < frames; ++i) {
        for (std::size_t c = 0; c < ch; ++c) {
            inter[i * ch + c] = audio[c][i];
        }
    }
    return inter;
}
} // namespace

void writeRawFloat(const std::filesystem::path& p, const Planar& audio, SampleRate fs, int format) {
    const auto inter = interleaved(audio);
    SNDFILE* f = openWrite(p, static_cast<int>(audio.size()), fs, format);
    sf_writef_float(f, inter.data(), static_cast<sf_count_t>(audio.empty() ? 0 : audio[0].size()));
    sf_close(f);
}

void writeRawInt(const std::filesystem::path& p, const std::vector<std::vector<std::int32_t>>& audio,
                 SampleRate fs, int format) {
    const auto inter = interleaved(audio);
    SNDFILE* f = openWrite(p, static_cast<int>(audio.size()), fs, format);
    sf_writef_int(f, inter.data(), static_cast<sf_count_t>(audio.empty() ? 0 : audio[0].size()));
    sf_close(f);
}

namespace {
template <typename T, typename ReadFn>
std::vector<std::vector<T>> readRaw(const std::filesystem::path& p, ReadFn readFrames, SampleRate* fs) {
    SF_INFO info{};
    SNDFILE* f = sf_open(p.c_str(), SFM_READ, &info);
    if (f == nullptr) {
        throw std::runtime_error("test: cannot read " + p.string() + ": " + sf_strerror(nullptr));
    }
    const auto ch = static_cast<std::size_t>(info.channels);
    std::vector<T> inter(static_cast<std::size_t>(info.frames) * ch);
    const auto got = static_cast<std::size_t>(readFrames(f, inter.data(), info.frames));
    sf_close(f);
    std::vector<std::vector<T>> out(ch, std::vector<T>(got));
    for (std::size_t i = 0; i < got; ++i) {
        for (std::size_t c = 0; c < ch; ++c) {
            out[c][i] = inter[i * ch + c];
        }
    }
    if (fs != nullptr) {
        *fs = info.samplerate;
    }
    return out;
}
} // namespace

Planar readRawFloat(const std::filesystem::path& p, SampleRate* fs) {
    return readRaw<float>(p, sf_readf_float, fs);
}

std::vector<std::vector<std::int32_t>> readRawInt(const std::filesystem::path& p) {
    return readRaw<std::int32_t>(p, sf_readf_int, nullptr);
}

int rawFormatOf(const std::filesystem::path& p) {
    SF_INFO info{};
    SNDFILE* f = sf_open(p.c_str(), SFM_READ, &info);
    if (f == nullptr) {
        return 0;
    }
    sf_close(f);
    return info.format;
}

std::vector<std::uint8_t> wavHeader(int channels, std::uint32_t rate, int bits, std::uint32_t dataBytes) {
    std::vector<std::uint8_t> h;
    auto put = [&](const char* tag) {
        for (int i = 0; i < 4; ++i) {
            h.push_back(static_cast<std::uint8_t>(tag[i]));
        }
    };
    auto u32 = [&](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            h.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        }
    };
    auto u16 = [&](std::uint32_t v) {
        h.push_back(static_cast<std::uint8_t>(v));
        h.push_back(static_cast<std::uint8_t>(v >> 8));
    };
    const std::uint32_t blockAlign = static_cast<std::uint32_t>(channels * bits / 8);
    put("RIFF");
    u32(36 + dataBytes);
    put("WAVE");
    put("fmt ");
    u32(16);
    u16(1);
    u16(static_cast<std::uint32_t>(channels));
    u32(rate);
    u32(rate * blockAlign);
    u16(blockAlign);
    u16(static_cast<std::uint32_t>(bits));
    put("data");
    u32(dataBytes);
    return h;
}

MemorySource::MemorySource(Planar audio, SampleRate fs, int integerBits)
    : m_audio(std::move(audio)), m_fs(fs), m_bits(integerBits),
      m_layout(ChannelLayout::fromConvention(static_cast<int>(m_audio.size()))) {}

MemorySource::MemorySource(Planar audio, SampleRate fs, ChannelLayout layout)
    : m_audio(std::move(audio)), m_fs(fs), m_bits(0), m_layout(std::move(layout)) {}

ChannelLayout MemorySource::channelLayout() const {
    return m_layout;
}

std::vector<float> resampleOffline(const std::vector<float>& x, SampleRate from, SampleRate to) {
    ResampleStage stage(to);
    stage.prepare(StreamFormat{from, 1, ChannelLayout::fromConvention(1)}, static_cast<Frames>(x.size()));
    AudioBuffer in(1, static_cast<Frames>(x.size()));
    in.setFrames(static_cast<Frames>(x.size()));
    std::copy(x.begin(), x.end(), in.channel(0));
    AudioBuffer out;
    AudioBuffer tail;
    stage.process(in, out);
    stage.flush(tail);
    out.append(tail, 0, tail.frames());
    return {out.channel(0), out.channel(0) + out.frames()};
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        out.push_back(text.substr(start, end - start));
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    return out;
}

Frames MemorySource::totalFrames() const {
    return m_audio.empty() ? 0 : static_cast<Frames>(m_audio[0].size());
}

Frames MemorySource::read(AudioBuffer& dst, Frames maxFrames) {
    const Frames n = std::min(maxFrames, totalFrames() - m_position);
    dst.reset(channelCount(), maxFrames);
    dst.setFrames(n);
    for (int c = 0; c < channelCount(); ++c) {
        std::memcpy(dst.channel(c), m_audio[static_cast<std::size_t>(c)].data() + m_position,
                    static_cast<std::size_t>(n) * sizeof(float));
    }
    m_position += n;
    return n;
}

StreamFormat DelayStage::prepare(const StreamFormat& input, Frames) {
    m_channels = input.channels;
    m_pending.reset(m_channels, m_latency);
    return input;
}

void DelayStage::process(const AudioBuffer& in, AudioBuffer& out) {
    out.reset(m_channels, 0);
    if (!m_started) {
        m_started = true;
        out.setFrames(m_latency);
        out.clear();
    }
    out.append(in, 0, in.frames());
    // Hold back the last `latency` frames of the whole stream until flush.
    AudioBuffer combined;
    combined.reset(m_channels, 0);
    combined.append(m_pending, 0, m_pending.frames());
    combined.append(out, 0, out.frames());
    const Frames release = std::max<Frames>(0, combined.frames() - m_latency);
    out.reset(m_channels, 0);
    out.append(combined, 0, release);
    m_pending.reset(m_channels, 0);
    m_pending.append(combined, release, combined.frames() - release);
}

void DelayStage::flush(AudioBuffer& out) {
    out.reset(m_channels, 0);
    if (m_flushed) {
        return;
    }
    m_flushed = true;
    out.append(m_pending, 0, m_pending.frames());
    const Frames start = out.frames();
    out.setFrames(start + m_tail);
    for (int c = 0; c < m_channels; ++c) {
        std::fill(out.channel(c) + start, out.channel(c) + out.frames(), 0.25f);
    }
}

double nullDb(const std::vector<float>& a, const std::vector<float>& b) {
    double e = 0;
    double s = 0;
    for (std::size_t n = 0; n < b.size(); ++n) {
        const double d = static_cast<double>(a[n]) - b[n];
        e += d * d;
        s += static_cast<double>(b[n]) * b[n];
    }
    return 10.0 * std::log10(e / s);
}

/// True peak by brute force: ×16, 64-tap Kaiser (β = 10) windowed sinc per phase, in double,
/// at every sample. Written independently of lathe/design (and slower by far).
double referenceTruePeakDb(const Planar& x) {
    constexpr int kFactor = 16;
    constexpr int kTaps = 64;
    auto i0 = [](double v) {
        double sum = 1.0, term = 1.0;
        for (int k = 1; k < 60; ++k) {
            term *= (v / (2.0 * k)) * (v / (2.0 * k));
            sum += term;
        }
        return sum;
    };
    std::vector<double> h(static_cast<std::size_t>(kFactor * kTaps));
    for (int p = 0; p < kFactor; ++p) {
        double sum = 0.0;
        for (int i = 0; i < kTaps; ++i) {
            const double t = static_cast<double>(p) / kFactor - (i - kTaps / 2 + 1);
            const double s = t == 0.0 ? 1.0 : std::sin(std::numbers::pi * t) / (std::numbers::pi * t);
            const double r = t / (kTaps / 2.0);
            const double w = std::fabs(r) >= 1.0 ? 0.0 : i0(10.0 * std::sqrt(1.0 - r * r)) / i0(10.0);
            h[static_cast<std::size_t>(p * kTaps + i)] = s * w;
            sum += s * w;
        }
        for (int i = 0; i < kTaps; ++i) {
            h[static_cast<std::size_t>(p * kTaps + i)] /= sum;
        }
    }
    double peak = 0.0;
    for (const auto& ch : x) {
        const auto n = static_cast<std::ptrdiff_t>(ch.size());
        for (std::ptrdiff_t m = 0; m < n; ++m) {
            for (int p = 0; p < kFactor; ++p) {
                double y = 0.0;
                for (int i = 0; i < kTaps; ++i) {
                    const std::ptrdiff_t k = m - kTaps / 2 + 1 + i;
                    if (k >= 0 && k < n) {
                        y += h[static_cast<std::size_t>(p * kTaps + i)] * ch[static_cast<std::size_t>(k)];
                    }
                }
                peak = std::max(peak, std::fabs(y));
            }
        }
    }
    return 20.0 * std::log10(peak);
}

Frames FailingSource::read(AudioBuffer& dst, Frames maxFrames) {
    if (++m_reads == 3) {
        throw InputError("failing.wav", "decoding failed at frame 2048");
    }
    dst.reset(1, maxFrames);
    dst.setFrames(std::min<Frames>(maxFrames, 1024));
    dst.clear();
    return dst.frames();
}

} // namespace lathe::test
