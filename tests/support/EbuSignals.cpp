// SPDX-License-Identifier: GPL-3.0-or-later
#include "EbuSignals.h"

#include <cmath>
#include <numbers>

namespace lathe::test::ebu {
namespace {
constexpr double kPi = std::numbers::pi;

double amplitudeOf(double dbfs) { return dbfs < -200.0 ? 0.0 : std::pow(10.0, dbfs / 20.0); }

double besselI0(double x) {
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 80; ++k) {
        const double f = x / (2.0 * k);
        term *= f * f;
        sum += term;
    }
    return sum;
}
} // namespace

Planar stereoSegments(const std::vector<Segment>& segments, SampleRate fs) {
    std::vector<float> ch;
    for (const Segment& s : segments) {
        const auto n = static_cast<Frames>(std::llround(s.seconds * fs));
        const auto part = sine(s.hz, amplitudeOf(s.dbfs), fs, n);
        ch.insert(ch.end(), part.begin(), part.end());
    }
    return {ch, ch};
}

Planar fiveChannelCase6(SampleRate fs) {
    const Frames n = 20 * static_cast<Frames>(fs);
    const auto lr = sine(1000.0, amplitudeOf(-28.0), fs, n);
    const auto c = sine(1000.0, amplitudeOf(-24.0), fs, n);
    const auto s = sine(1000.0, amplitudeOf(-30.0), fs, n);
    return {lr, lr, c, s, s};
}

Planar truePeakSine(SampleRate fs, double fsDivisor, double amplitude, double phaseDegrees) {
    auto x = sine(fs / fsDivisor, amplitude, fs, 2 * static_cast<Frames>(fs), phaseDegrees * kPi / 180.0);
    // 100 ms raised-cosine fades, as the EBU files have: an abrupt start at 60° would be a step,
    // whose (real) band-limited overshoot is not what these cases test.
    const auto fade = static_cast<std::size_t>(fs / 10);
    for (std::size_t i = 0; i < fade; ++i) {
        const auto g = static_cast<float>(0.5 - 0.5 * std::cos(kPi * static_cast<double>(i) / static_cast<double>(fade)));
        x[i] *= g;
        x[x.size() - 1 - i] *= g;
    }
    return {x, x};
}

Planar truePeakBurst(SampleRate fs, int offset) {
    // Build at 4·fs: 0.5·sin with period 24, one period of 1.0·sin with period 16 at a zero crossing.
    const Frames before = 24 * 400; // whole periods, so the splice sits at a zero crossing
    const Frames after = 24 * 400;
    std::vector<double> hi;
    for (Frames n = 0; n < before; ++n) {
        hi.push_back(0.5 * std::sin(2.0 * kPi * static_cast<double>(n) / 24.0));
    }
    for (Frames n = 0; n < 16; ++n) {
        hi.push_back(1.0 * std::sin(2.0 * kPi * static_cast<double>(n) / 16.0));
    }
    for (Frames n = 0; n < after; ++n) {
        hi.push_back(0.5 * std::sin(2.0 * kPi * static_cast<double>(n) / 24.0));
    }
    // Low-pass at 0.4375·fs = 0.109375 of the 4·fs rate: 1023-tap Kaiser (β = 12) windowed sinc.
    constexpr int kTaps = 1023;
    const double fc = 0.4375 / 4.0; // cycles per high-rate sample
    std::vector<double> h(kTaps);
    double sum = 0.0;
    for (int i = 0; i < kTaps; ++i) {
        const double t = i - (kTaps - 1) / 2.0;
        const double sinc = t == 0.0 ? 2.0 * fc : std::sin(2.0 * kPi * fc * t) / (kPi * t);
        const double r = t / ((kTaps - 1) / 2.0);
        h[static_cast<std::size_t>(i)] = sinc * besselI0(12.0 * std::sqrt(std::max(0.0, 1.0 - r * r))) / besselI0(12.0);
        sum += h[static_cast<std::size_t>(i)];
    }
    for (double& v : h) {
        v /= sum;
    }
    std::vector<float> out;
    for (Frames n = offset; n < static_cast<Frames>(hi.size()); n += 4) {
        double y = 0.0;
        for (int i = 0; i < kTaps; ++i) {
            const Frames k = n - (kTaps - 1) / 2 + i;
            if (k >= 0 && k < static_cast<Frames>(hi.size())) {
                y += h[static_cast<std::size_t>(i)] * hi[static_cast<std::size_t>(k)];
            }
        }
        out.push_back(static_cast<float>(y));
    }
    // Pad to 1 s with silence (the burst, at 1.0, is far above everything the edges could do).
    out.resize(static_cast<std::size_t>(std::max<Frames>(static_cast<Frames>(out.size()), fs)), 0.0f);
    return {out, out};
}

} // namespace lathe::test::ebu
