// SPDX-License-Identifier: GPL-3.0-or-later
// The demo/benchmark mix. Everything is synthesised here (no samples, no third-party material), so
// the audio is ours to ship under the GPL (assets/demo/README.md). Written for clarity first; it
// runs at a few hundred times real time, enough to make the 60-minute benchmark file once.
#include <lathe/Error.h>
#include <lathe/math/Random.h>
#include <lathe/signals/DemoMix.h>

#include <array>
#include <cmath>
#include <numbers>

namespace lathe::signals {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kTwoPi = 2.0 * std::numbers::pi;

double midiToHz(double note) {
    return 440.0 * std::pow(2.0, (note - 69.0) / 12.0);
}

/// PolyBLEP correction of a naive sawtooth (Välimäki et al.), enough to keep aliasing below the
/// mix for a demo signal.
double polyBlep(double t, double dt) {
    if (t < dt) {
        t /= dt;
        return t + t - t * t - 1.0;
    }
    if (t > 1.0 - dt) {
        t = (t - 1.0) / dt;
        return t * t + t + t + 1.0;
    }
    return 0.0;
}

struct Saw {
    double phase = 0.0;
    double next(double hz, double fs) {
        const double dt = hz / fs;
        const double y = 2.0 * phase - 1.0 - polyBlep(phase, dt);
        phase += dt;
        phase -= std::floor(phase);
        return y;
    }
};

/// Topology-preserving-transform state-variable filter (Zavalishin): low-pass and band-pass outputs.
struct Svf {
    double a1 = 0, a2 = 0, a3 = 0, k = 1;
    double ic1 = 0, ic2 = 0;
    void set(double hz, double q, double fs) {
        const double g = std::tan(kPi * std::min(hz, 0.45 * fs) / fs);
        k = 1.0 / q;
        a1 = 1.0 / (1.0 + g * (g + k));
        a2 = g * a1;
        a3 = g * a2;
    }
    /// Returns {low-pass, band-pass normalised to 0 dB at the centre}.
    std::pair<double, double> next(double x) {
        const double v3 = x - ic2;
        const double v1 = a1 * ic1 + a2 * v3;
        const double v2 = ic2 + a2 * ic1 + a3 * v3;
        ic1 = 2.0 * v1 - ic1;
        ic2 = 2.0 * v2 - ic2;
        return {v2, k * v1};
    }
};

struct OnePole {
    double y = 0.0;
    double a = 1.0;
    void setTime(double seconds, double fs) { a = 1.0 - std::exp(-1.0 / (seconds * fs)); }
    void setCutoff(double hz, double fs) { a = 1.0 - std::exp(-kTwoPi * hz / fs); }
    double next(double x) { return y += a * (x - y); }
};

enum class Section { Intro, Verse, Chorus, Break };

/// Bars of the form: 32 bars, then repeats from the verse (bar 4) for longer renders.
int formBar(Frames bar) {
    return bar < 32 ? static_cast<int>(bar) : 4 + static_cast<int>((bar - 32) % 28);
}

Section sectionOf(int fb) {
    if (fb < 4) {
        return Section::Intro;
    }
    if (fb < 12) {
        return Section::Verse;
    }
    if (fb < 20) {
        return Section::Chorus;
    }
    if (fb < 24) {
        return Section::Break;
    }
    return Section::Chorus;
}

// Am – F – C – G: pad triads (MIDI) and bass roots.
constexpr std::array<std::array<int, 3>, 4> kChords{{{57, 60, 64}, {53, 57, 60}, {60, 64, 67}, {55, 59, 62}}};
constexpr std::array<int, 4> kBassRoots{33, 29, 36, 31};
// Vowel formants (Hz) for a, e, i, o, u (Peterson & Barney style averages).
constexpr std::array<std::array<double, 3>, 5> kFormants{
    {{800, 1150, 2900}, {400, 1600, 2700}, {350, 1700, 2700}, {450, 800, 2830}, {325, 700, 2530}}};
// Melody over two bars: index into the chord (3 = octave of the root), −1 = rest.
constexpr std::array<int, 8> kMelody{0, 1, 2, 1, 3, 2, 1, -1};

} // namespace

struct DemoMix::Impl {
    DemoMixSettings settings;
    double fs = 48000;
    Frames total = 0;
    Frames position = 0;
    Frames beatFrames = 24000;

    // Drums
    double kickPhase = 0, kickAmp = 0, kickSweep = 0, kickClick = 0;
    double snareAmp = 0, snareNoiseAmp = 0, snarePhase = 0;
    double hatAmp = 0;
    OnePole snareLp, hatLpL, hatLpR;
    // Bass
    Saw bassSaw;
    Svf bassFilter;
    OnePole bassAmp; // smooths the gate so notes start and stop without clicks
    double bassEnv = 0, bassCutEnv = 0;
    bool bassGate = false;
    // Pad
    std::array<Saw, 6> padSaws;
    OnePole padLpL, padLpR, padLevel;
    // Vocal
    Saw vocalSaw;
    std::array<Svf, 3> formants;
    OnePole vocalGlide, vocalEnv;
    double vibratoPhase = 0;
    Frames noteStart = 0;
    double vocalTarget = 0;
    bool vocalOn = false;
    // Decay multipliers per sample
    double kickDecay = 0, kickSweepDecay = 0, clickDecay = 0, snareDecay = 0, snareNoiseDecay = 0,
           hatDecay = 0, hatOpenDecay = 0, bassDecay = 0, bassCutDecay = 0;

    double decayPerSample(double seconds) const { return std::exp(-1.0 / (seconds * fs)); }

    double noise(std::uint32_t stream, Frames frame) const {
        const std::uint64_t h = math::hashCounter(settings.seed, stream, static_cast<std::uint64_t>(frame));
        return math::uniformFromBits(static_cast<std::uint32_t>(h >> 32)) * 2.0 - 1.0;
    }

    void init() {
        fs = settings.sampleRate;
        beatFrames = settings.sampleRate / 2; // 120 BPM
        kickDecay = decayPerSample(0.28);
        kickSweepDecay = decayPerSample(0.035);
        clickDecay = decayPerSample(0.002);
        snareDecay = decayPerSample(0.06);
        snareNoiseDecay = decayPerSample(0.13);
        hatDecay = decayPerSample(0.025);
        hatOpenDecay = decayPerSample(0.11);
        bassDecay = decayPerSample(0.18);
        bassCutDecay = decayPerSample(0.08);
        snareLp.setCutoff(1500, fs);
        hatLpL.setCutoff(7000, fs);
        hatLpR.setCutoff(7000, fs);
        padLpL.setCutoff(3000, fs);
        padLpR.setCutoff(3000, fs);
        padLevel.setTime(0.4, fs);
        vocalGlide.setTime(0.03, fs);
        vocalEnv.setTime(0.04, fs);
        bassFilter.set(400, 1.2, fs);
        bassAmp.setTime(0.003, fs);
    }

    /// Called at every 16th-note boundary: triggers events.
    void onSixteenth(Frames frame, Frames beat, int sixteenth) {
        const int fb = formBar(beat / 4);
        const Section sec = sectionOf(fb);
        const int beatInBar = static_cast<int>(beat % 4);
        const bool drums = sec == Section::Verse || sec == Section::Chorus;
        const int chord = fb % 4;

        if (sixteenth == 0 && drums) {
            kickAmp = 0.7;
            kickSweep = 1.0;
            kickClick = 0.25;
            kickPhase = 0.0;
            if (beatInBar == 1 || beatInBar == 3) {
                snareAmp = sec == Section::Chorus ? 0.42 : 0.30;
                snareNoiseAmp = sec == Section::Chorus ? 0.55 : 0.38;
                snarePhase = 0.0;
            }
        }
        const bool hat16 = sec == Section::Chorus;
        const bool hat8 = sec == Section::Verse || sec == Section::Intro;
        if (hat16 || (hat8 && sixteenth % 2 == 0)) {
            const double accent = sixteenth == 2 ? 1.0 : 0.6;
            hatAmp = (sec == Section::Intro ? 0.10 : 0.32) * accent;
        }
        // Bass: 8th notes, resting on the 2nd and 6th 8th of the bar.
        if (sixteenth % 2 == 0) {
            const int eighth = beatInBar * 2 + sixteenth / 2;
            bassGate = drums && eighth != 1 && eighth != 5;
            if (bassGate) {
                bassEnv = 1.0;
                bassCutEnv = 1.0;
            }
        }
        // Vocal: one note per beat following the melody.
        if (sixteenth == 0) {
            const bool sings = sec == Section::Verse || sec == Section::Chorus || sec == Section::Break;
            const int step = kMelody[static_cast<std::size_t>((fb % 2) * 4 + beatInBar)];
            vocalOn = sings && step >= 0;
            if (vocalOn) {
                const int note =
                    step == 3 ? kChords[static_cast<std::size_t>(chord)][0] + 12
                              : kChords[static_cast<std::size_t>(chord)][static_cast<std::size_t>(step)];
                vocalTarget = midiToHz(note + (sec == Section::Chorus ? 12 : 0));
                if (vocalGlide.y == 0.0) {
                    vocalGlide.y = vocalTarget;
                }
                noteStart = frame;
                const auto& f = kFormants[static_cast<std::size_t>(beat % 5)];
                const std::array<double, 3> bw{80, 90, 120};
                for (std::size_t i = 0; i < 3; ++i) {
                    formants[i].set(f[i], f[i] / bw[i], fs);
                }
            }
        }
    }

    void generate(float* left, float* right, Frames count) {
        const Frames sixteenthFrames = std::max<Frames>(1, beatFrames / 4);
        const Frames fadeFrames = static_cast<Frames>(2.0 * fs);
        for (Frames i = 0; i < count; ++i) {
            const Frames frame = position + i;
            const Frames beat = frame / beatFrames;
            const Frames inBeat = frame % beatFrames;
            if (inBeat % sixteenthFrames == 0 && inBeat / sixteenthFrames < 4) {
                onSixteenth(frame, beat, static_cast<int>(inBeat / sixteenthFrames));
            }
            const int fb = formBar(beat / 4);
            const Section sec = sectionOf(fb);
            const auto& chord = kChords[static_cast<std::size_t>(fb % 4)];

            // Kick: pitch-swept sine plus a short noise click, centre.
            const double kickHz = 48.0 + 120.0 * kickSweep;
            kickPhase += kTwoPi * kickHz / fs;
            const double kick = kickAmp * std::sin(kickPhase) + kickClick * noise(1, frame);
            kickAmp *= kickDecay;
            kickSweep *= kickSweepDecay;
            kickClick *= clickDecay;

            // Snare: tone + band-limited noise, noise slightly decorrelated between sides.
            snarePhase += kTwoPi * 190.0 / fs;
            const double snareTone = snareAmp * std::sin(snarePhase);
            const double nL = noise(2, frame);
            const double nR = noise(3, frame);
            const double snareHp = nL - snareLp.next(nL);
            const double snareL = snareTone + snareNoiseAmp * snareHp;
            const double snareR = snareTone + snareNoiseAmp * (0.7 * snareHp + 0.3 * nR);
            snareAmp *= snareDecay;
            snareNoiseAmp *= snareNoiseDecay;

            // Hats: high-passed noise, a little right of centre.
            const double hL = noise(4, frame);
            const double hR = noise(5, frame);
            const double hatL = hatAmp * (hL - hatLpL.next(hL));
            const double hatR = hatAmp * (hR - hatLpR.next(hR));
            hatAmp *= sec == Section::Chorus ? hatDecay : hatOpenDecay;

            // Bass: saw through a resonant low-pass with a decaying cutoff; gate released just
            // before each 8th so notes do not click.
            const Frames inEighth = frame % (beatFrames / 2);
            const bool releasing = inEighth > beatFrames / 2 - static_cast<Frames>(0.01 * fs);
            if (frame % 32 == 0) {
                bassFilter.set(160.0 + 900.0 * bassCutEnv, 1.3, fs);
            }
            const double bassRaw = bassSaw.next(midiToHz(kBassRoots[static_cast<std::size_t>(fb % 4)]), fs);
            const double bassLevel = bassAmp.next(bassGate && !releasing ? 0.30 + 0.25 * bassEnv : 0.0);
            const double bass = bassFilter.next(bassRaw).first * bassLevel;
            bassEnv *= bassDecay;
            bassCutEnv *= bassCutDecay;

            // Pad: three chord notes, two saws each detuned ±8 cents, one per side.
            double padL = 0.0;
            double padR = 0.0;
            for (std::size_t n = 0; n < 3; ++n) {
                padL += padSaws[2 * n].next(midiToHz(chord[n] - 0.08), fs);
                padR += padSaws[2 * n + 1].next(midiToHz(chord[n] + 0.08), fs);
            }
            const double padTarget = sec == Section::Intro    ? 0.05
                                     : sec == Section::Verse  ? 0.07
                                     : sec == Section::Chorus ? 0.09
                                                              : 0.085;
            const double padGain = padLevel.next(padTarget);
            padL = padLpL.next(padL) * padGain;
            padR = padLpR.next(padR) * padGain;

            // Vocal-like line: vibrato saw + breath through three formant band-passes.
            const double sinceNote = static_cast<double>(frame - noteStart) / fs;
            const bool noteEnding = inBeat > beatFrames - static_cast<Frames>(0.06 * fs);
            const double env = vocalEnv.next(vocalOn && !noteEnding ? 1.0 : 0.0);
            const double glideHz = vocalGlide.next(vocalTarget > 0.0 ? vocalTarget : 220.0);
            vibratoPhase += kTwoPi * 5.5 / fs;
            const double vibrato =
                1.0 + 0.004 * std::min(1.0, std::max(0.0, sinceNote - 0.15) * 4.0) * std::sin(vibratoPhase);
            const double source = vocalSaw.next(glideHz * vibrato, fs) + 0.05 * noise(6, frame);
            double voice = 0.0;
            const std::array<double, 3> gains{1.0, 0.5, 0.25};
            for (std::size_t k = 0; k < 3; ++k) {
                voice += gains[k] * formants[k].next(source).second;
            }
            const double vocalLevel = sec == Section::Chorus ? 0.9 : 0.7;
            voice *= env * vocalLevel;

            // Bus: equal-power-ish panning, then soft saturation that keeps peaks under −1 dBFS.
            double l = kick + 0.9 * snareL + 0.8 * hatL + bass + padL + 0.55 * voice;
            double r = kick + 0.9 * snareR + 1.0 * hatR + bass + padR + 0.45 * voice;
            constexpr double kBusGain = 0.36;
            constexpr double kCeiling = 0.89; // −1 dBFS
            l = kCeiling * std::tanh(kBusGain * l / kCeiling);
            r = kCeiling * std::tanh(kBusGain * r / kCeiling);
            if (frame >= total - fadeFrames) {
                const double x = static_cast<double>(total - frame) / static_cast<double>(fadeFrames);
                const double fade = 0.5 - 0.5 * std::cos(kPi * x);
                l *= fade;
                r *= fade;
            }
            left[i] = static_cast<float>(l);
            right[i] = static_cast<float>(r);
        }
        position += count;
    }
};

DemoMix::DemoMix(const DemoMixSettings& settings) : m_impl(std::make_unique<Impl>()) {
    if (settings.sampleRate < kMinSampleRate || settings.sampleRate > kMaxSampleRate) {
        throw UsageError("demo mix sample rate must be within " + std::to_string(kMinSampleRate) + "–" +
                         std::to_string(kMaxSampleRate) + " Hz");
    }
    if (!(settings.durationSeconds > 0.0) || settings.durationSeconds > 6 * 3600.0) {
        throw UsageError("demo mix duration must be between 0 and 6 hours");
    }
    m_impl->settings = settings;
    m_impl->total = static_cast<Frames>(std::llround(settings.durationSeconds * settings.sampleRate));
    m_impl->init();
}

DemoMix::~DemoMix() = default;

SampleRate DemoMix::sampleRate() const {
    return m_impl->settings.sampleRate;
}
Frames DemoMix::totalFrames() const {
    return m_impl->total;
}

Frames DemoMix::read(AudioBuffer& dst, Frames maxFrames) {
    const Frames n = std::max<Frames>(0, std::min(maxFrames, m_impl->total - m_impl->position));
    dst.reset(2, maxFrames);
    dst.setFrames(n);
    m_impl->generate(dst.channel(0), dst.channel(1), n);
    return n;
}

} // namespace lathe::signals
