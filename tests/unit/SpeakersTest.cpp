// Speaker models and translation metrics (issue 9): each against a closed form or an independent
// measurement of the files the engine writes.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/AudioReader.h>
#include <lathe/ChainSource.h>
#include <lathe/Error.h>
#include <lathe/Loudness.h>
#include <lathe/RenderJob.h>
#include <lathe/Speakers.h>
#include <lathe/Translation.h>
#include <lathe/design/EqDesign.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <complex>
#include <fstream>
#include <numbers>

namespace lathe::test {
namespace {

/// The issue's bound: a model's response reproduces its curve within 0.5 dB.
constexpr double kCurveToleranceDb = 0.5;
/// Level matching puts every model within 0.1 LU of the reference (the issue's bound).
constexpr double kMatchToleranceLu = 0.1;

/// The written curve computed here without the engine: dB interpolated linearly over log f between
/// the points (held beyond them), plus Butterworth cuts |H|² = 1 / (1 + (fc/f)^2N) (high-pass) and
/// 1 / (1 + (f/fc)^2N) (low-pass).
double curveDb(const SpeakerModel& m, double hz) {
    double db = 0.0;
    const auto& p = m.response;
    if (!p.empty()) {
        if (hz <= p.front().hz) {
            db = p.front().gainDb;
        } else if (hz >= p.back().hz) {
            db = p.back().gainDb;
        } else {
            for (std::size_t i = 1; i < p.size(); ++i) {
                if (hz <= p[i].hz) {
                    const double t = std::log(hz / p[i - 1].hz) / std::log(p[i].hz / p[i - 1].hz);
                    db = p[i - 1].gainDb + t * (p[i].gainDb - p[i - 1].gainDb);
                    break;
                }
            }
        }
    }
    if (m.lowCut) {
        db -= 10.0 * std::log10(1.0 + std::pow(m.lowCut->hz / hz, 2.0 * m.lowCut->slopeDbPerOctave / 6.0));
    }
    if (m.highCut) {
        db -= 10.0 * std::log10(1.0 + std::pow(hz / m.highCut->hz, 2.0 * m.highCut->slopeDbPerOctave / 6.0));
    }
    return db;
}

/// The model's stages (driver and mono fold left out: they are not linear) applied to a unit
/// impulse; returns the aligned impulse response (zero phase: centred on frame `centre`).
std::vector<float> impulseResponse(const SpeakerModel& model, SampleRate fs, Frames centre, Frames length) {
    SpeakerModel linear = model;
    linear.driver.reset();
    linear.mono = false;
    Planar in{std::vector<float>(static_cast<std::size_t>(length), 0.0f)};
    in[0][static_cast<std::size_t>(centre)] = 1.0f;
    MemorySource source(in, fs);
    SpeakerStageStats stats;
    auto cpu = makeCpuBackend();
    auto stages = buildSpeakerStages(linear, -14.0, *cpu, 1, stats);
    std::vector<Stage*> chain;
    for (auto& s : stages) {
        chain.push_back(s.get());
    }
    ChainSource out(source, chain);
    std::vector<float> h;
    AudioBuffer block;
    while (out.read(block, 65536) > 0) {
        h.insert(h.end(), block.channel(0), block.channel(0) + block.frames());
    }
    return h;
}

/// |H(f)| in dB of a response centred on `centre` (direct DFT in double precision).
double magnitudeDb(const std::vector<float>& h, SampleRate fs, Frames centre, double hz) {
    std::complex<double> sum = 0.0;
    const double w = 2.0 * std::numbers::pi * hz / fs;
    for (std::size_t k = 0; k < h.size(); ++k) {
        if (h[k] != 0.0f) {
            sum += static_cast<double>(h[k]) *
                   std::polar(1.0, -w * (static_cast<double>(k) - static_cast<double>(centre)));
        }
    }
    return 20.0 * std::log10(std::abs(sum));
}

class BuiltinModel : public ::testing::TestWithParam<std::tuple<std::string, SampleRate>> {};

TEST_P(BuiltinModel, RendersItsCurveWithinHalfADecibel) {
    const auto& [id, fs] = GetParam();
    const auto models = selectSpeakers(id);
    const SpeakerModel& m = models.back();
    ASSERT_EQ(m.id, id);
    const Frames centre = 70000; // beyond the longest FIR's half length
    const std::vector<float> h = impulseResponse(m, fs, centre, 2 * centre + 1);
    // Every written point in band, and the log-midpoints between them, and a 1/3-octave grid.
    std::vector<double> at;
    for (std::size_t i = 0; i < m.response.size(); ++i) {
        at.push_back(m.response[i].hz);
        if (i > 0) {
            at.push_back(std::sqrt(m.response[i].hz * m.response[i - 1].hz));
        }
    }
    for (double f = 20.0; f <= 20000.0; f *= std::pow(2.0, 1.0 / 3.0)) {
        at.push_back(f);
    }
    int checked = 0;
    for (double f : at) {
        if (f < 20.0 || f > 20000.0 || f > 0.45 * fs) {
            continue;
        }
        const double want = curveDb(m, f);
        const double got = magnitudeDb(h, fs, centre, f);
        if (want < kSpeakerFloorDb) { // the stop band only needs to stay below the floor
            EXPECT_LT(got, kSpeakerFloorDb + kCurveToleranceDb) << m.id << " at " << f << " Hz";
        } else {
            EXPECT_NEAR(got, want, kCurveToleranceDb) << m.id << " at " << f << " Hz, " << fs << " Hz";
        }
        ++checked;
    }
    EXPECT_GT(checked, 20);
}

/// The FIR length the model's EQ stage chose at `fs` (0: no FIR, a flat response), checked to be
/// the shortest of the automatic rule's lengths (autoTapCount, then doubled) whose design follows
/// this test's own curve within half the bound: each length checked with a design of its own,
/// independent of the one the stage made.
int checkShortestFir(const SpeakerModel& m, SampleRate fs) {
    SpeakerStageStats stats;
    auto cpu = makeCpuBackend();
    auto stages = buildSpeakerStages(m, -14.0, *cpu, 1, stats);
    Stage* eq = nullptr;
    for (auto& s : stages) {
        if (s->name() == "eq") {
            eq = s.get();
        }
    }
    if (eq == nullptr) {
        return 0;
    }
    StreamFormat format;
    format.sampleRate = fs;
    format.channels = 1;
    format.layout = ChannelLayout::fromConvention(1);
    eq->prepare(format, 4096);
    const int taps = eq->report()["taps"].get<int>();
    const auto curve = [&](double hz) { return std::pow(10.0, curveDb(m, hz) / 20.0); };
    const double goal = kSpeakerFitDb / 2;
    EXPECT_TRUE(design::designLinearPhaseFir(curve, fs, taps).maxErrorDb <= goal ||
                taps == design::kEqMaxTaps)
        << m.id << ": " << taps << " taps";
    if (int shorter = design::autoTapCount(speakerEqSpec(m), fs); shorter < taps) {
        while (design::nextTapCount(shorter) < taps) { // the length tried before `taps`
            shorter = design::nextTapCount(shorter);
        }
        EXPECT_GT(design::designLinearPhaseFir(curve, fs, shorter).maxErrorDb, goal)
            << m.id << ": " << shorter;
    }
    return taps;
}

TEST_P(BuiltinModel, ItsFirIsTheShortestLengthThatFollowsTheCurve) {
    const auto& [id, fs] = GetParam();
    checkShortestFir(selectSpeakers(id).back(), fs);
}

INSTANTIATE_TEST_SUITE_P(AllModels, BuiltinModel,
                         ::testing::Combine(::testing::Values("monitors", "phone", "laptop", "earbuds",
                                                              "headphones", "tv", "bluetooth-speaker", "car",
                                                              "club-pa"),
                                            ::testing::Values(44100, 96000)),
                         [](const auto& param) {
                             std::string n =
                                 std::get<0>(param.param) + "_" + std::to_string(std::get<1>(param.param));
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

// A measured response with kinks (±6 dB every third of an octave from 500 Hz): the length stops
// at half the bound (kSpeakerFitDb/2), well short of the longest FIR a 0.01 dB goal would chase.
TEST(SpeakerModels, AMeasuredResponseWithKinksStopsAtHalfTheBound) {
    SpeakerModel m;
    m.id = "kinked";
    int i = 0;
    for (double f = 500.0; f < 20000.0; f *= std::cbrt(2.0)) {
        m.response.push_back({f, i++ % 2 == 0 ? -6.0 : 6.0});
    }
    for (SampleRate fs : {44100, 48000}) {
        const int taps = checkShortestFir(m, fs);
        EXPECT_GT(taps, design::autoTapCount(speakerEqSpec(m), fs)) << fs << " Hz: the search went on";
        EXPECT_LT(taps, design::kEqMaxTaps) << fs << " Hz";
    }
}

TEST(Speakers, BuiltinsAreNineWithTheReferenceFirstAndRoundTripThroughJson) {
    const auto& all = builtinSpeakers();
    ASSERT_EQ(all.size(), 9u);
    EXPECT_TRUE(all.front().reference);
    EXPECT_EQ(all.front().id, "monitors");
    for (const auto& m : all) {
        EXPECT_FALSE(m.rationale.empty()) << m.id;
        EXPECT_FALSE(m.description.empty()) << m.id;
        const SpeakerModel back = parseSpeakerModel(toJson(m).dump(), "round trip");
        EXPECT_EQ(toJson(back), toJson(m)) << m.id;
        EXPECT_EQ(std::count_if(all.begin(), all.end(), [](const auto& x) { return x.reference; }), 1);
    }
}

TEST(Speakers, BassLimitOfASecondOrderHighPassIsItsClosedForm) {
    // |H|² = 1/(1 + (fc/f)^4) is −10 dB at f = fc / 9^(1/4) = fc/√3.
    SpeakerModel m;
    m.id = "hp";
    m.name = "hp";
    m.lowCut = SpeakerCut{100.0, 12};
    const double want = 100.0 / std::sqrt(3.0);
    // The search steps 1/48 octave down from 1 kHz and stops at the last step within 10 dB.
    EXPECT_LE(*speakerBassLimitHz(m), want * std::pow(2.0, 1.0 / 48.0));
    EXPECT_GE(*speakerBassLimitHz(m), want);
}

TEST(Speakers, AFlatModelNullsBitExactly) {
    SpeakerModel m;
    m.id = "flat";
    m.name = "flat";
    m.response = {{20.0, 0.0}, {20000.0, 0.0}};
    const Frames n = 48000;
    Planar in{noise(n, 0.3, 1), noise(n, 0.3, 2)};
    MemorySource source(in, 48000);
    SpeakerStageStats stats;
    auto cpu = makeCpuBackend();
    auto stages = buildSpeakerStages(m, -14.0, *cpu, 1, stats);
    std::vector<Stage*> chain;
    for (auto& s : stages) {
        chain.push_back(s.get());
    }
    ChainSource out(source, chain);
    AudioBuffer block;
    Frames at = 0;
    while (out.read(block, 4096) > 0) {
        for (int c = 0; c < 2; ++c) {
            for (Frames i = 0; i < block.frames(); ++i) {
                ASSERT_EQ(block.channel(c)[i],
                          in[static_cast<std::size_t>(c)][static_cast<std::size_t>(at + i)]);
            }
        }
        at += block.frames();
    }
    EXPECT_EQ(at, n);
}

TEST(Speakers, DriverProtectionReachesTheStaticCurveOnASteadyLevel) {
    // DC at 0.5 (−6.02 dBFS), threshold −12 dBFS (programme −18 LUFS + 6 LU), ratio 4: after the
    // attack, the reduction is (−6.02 + 12)(1 − 1/4) = 4.485 dB.
    SpeakerModel m;
    m.id = "drv";
    m.name = "drv";
    m.driver = DriverProtection{6.0, 4.0, 1.0, 100.0};
    const Frames n = 48000;
    Planar in{std::vector<float>(n, 0.5f)};
    MemorySource source(in, 48000);
    SpeakerStageStats stats;
    auto cpu = makeCpuBackend();
    auto stages = buildSpeakerStages(m, -18.0, *cpu, 1, stats);
    ASSERT_EQ(stages.size(), 1u);
    std::vector<Stage*> chain{stages[0].get()};
    ChainSource out(source, chain);
    AudioBuffer block;
    std::vector<float> y;
    while (out.read(block, 8192) > 0) {
        y.insert(y.end(), block.channel(0), block.channel(0) + block.frames());
    }
    const double want = 0.5 * std::pow(10.0, -(20.0 * std::log10(0.5) + 12.0) * 0.75 / 20.0);
    EXPECT_NEAR(y.back(), want, 1e-6);
    EXPECT_NEAR(stats.maxReductionDb, (20.0 * std::log10(0.5) + 12.0) * 0.75, 1e-6);
}

TEST(Speakers, InvalidModelsGiveClearErrors) {
    const std::string ok = R"({"schema":"lathe-speaker","version":1,"id":"x","name":"X")";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{", "not valid JSON"},
        {R"({"schema":"lathe-preset","version":1,"id":"x","name":"X"})", "'schema'"},
        {R"({"schema":"lathe-speaker","version":2,"id":"x","name":"X"})", "reads version 1"},
        {ok + R"(,"respnse":[]})", "did you mean 'response'"},
        {ok + R"(,"response":[[1000,0],[500,1]]})", "frequencies must ascend"},
        {ok + R"(,"response":[[0.5,0],[500,1]]})", "outside 1 Hz"},
        {ok + R"(,"response":[[100,90]]})", "outside ±60 dB"},
        {ok + R"(,"response":[[100]]})", "must be [hz, db]"},
        {ok + R"(,"low_cut":{"hz":100,"slope_db_per_octave":10}})", "not one of 6, 12"},
        {ok + R"(,"low_cut":{"slope_db_per_octave":12}})", "'hz': is required"},
        {ok + R"(,"low_cut":{"hz":5000},"high_cut":{"hz":1000}})", "must be above low_cut"},
        {ok + R"(,"driver_limit":{"ratio":0.5}})", "'ratio'"},
        {R"({"schema":"lathe-speaker","version":1,"id":"Bad Id","name":"X"})", "'id'"},
        {R"({"schema":"lathe-speaker","version":1,"id":"x"})", "'name': is required"},
    };
    for (const auto& [text, fragment] : cases) {
        try {
            parseSpeakerModel(text, "m.json");
            ADD_FAILURE() << "accepted: " << text;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("m.json"), std::string::npos) << e.what();
        }
    }
    EXPECT_NO_THROW(parseSpeakerModel(ok + "}", "m.json"));
    try {
        selectSpeakers("phone,walkman");
        ADD_FAILURE();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("no speaker model 'walkman'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("phone"), std::string::npos) << e.what();
    }
    EXPECT_THROW(loadSpeakerModel("/nonexistent/model.json"), InputError);
}

TEST(Speakers, MeasuredResponseCsvAndImpulseResponseFilesAreModels) {
    TempDir dir;
    {
        std::ofstream csv(dir / "my-room.csv");
        csv << "Hz,dB\n# measured at the sofa\n20,-12\n100,0\n1000,0\n10000,-3\n";
    }
    const SpeakerModel m = loadSpeakerModel(dir / "my-room.csv");
    EXPECT_EQ(m.id, "my-room");
    ASSERT_EQ(m.response.size(), 4u);
    EXPECT_DOUBLE_EQ(m.response[0].gainDb, -12.0);
    {
        std::ofstream bad(dir / "bad.csv");
        bad << "20,-12\n100,zero\n";
    }
    try {
        loadSpeakerModel(dir / "bad.csv");
        ADD_FAILURE();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    }
    // An IR file: a 3-tap mono filter; the selected model renders through it.
    writeRawFloat(dir / "ir.wav", Planar{{0.5f, 0.25f, 0.0f, 0.0f}}, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const auto picked = selectSpeakers((dir / "ir.wav").string());
    ASSERT_EQ(picked.size(), 2u);
    EXPECT_TRUE(picked[1].impulseResponse.has_value());
    EXPECT_FALSE(picked[1].reference);
}

/// A stereo test mix: noise with a chosen low end (sub-heavy or bass-light), R = `rSign`·L·c + …
Planar mixWith(double subAmplitude, bool bassLight, double correlation, Frames n, SampleRate fs) {
    std::vector<float> a = noise(n, 0.1, 7);
    std::vector<float> b = noise(n, 0.1, 8);
    if (bassLight) { // first-difference twice: +12 dB/octave, the lows almost gone
        for (int pass = 0; pass < 2; ++pass) {
            for (Frames i = n - 1; i > 0; --i) {
                a[i] = a[i] - a[i - 1];
                b[i] = b[i] - b[i - 1];
            }
        }
    }
    const std::vector<float> sub = sine(45.0, subAmplitude, fs, n);
    Planar x(2, std::vector<float>(static_cast<std::size_t>(n)));
    const double other = std::sqrt(std::max(0.0, 1.0 - correlation * correlation));
    for (Frames i = 0; i < n; ++i) {
        x[0][i] = a[i] + sub[i];
        x[1][i] =
            static_cast<float>(correlation * a[i] + other * b[i]) + sub[i] * (correlation < 0 ? -1.0f : 1.0f);
    }
    return x;
}

TEST(Translation, LevelMatchingPutsEveryModelWithinATenthOfALuOfTheReference) {
    TempDir dir;
    const SampleRate fs = 48000;
    writeRawFloat(dir / "mix.wav", mixWith(0.2, false, 0.5, 20 * fs, fs), fs,
                  SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    TranslationOptions o;
    o.models = selectSpeakers("all");
    o.renderDir = dir.path() / "renders";
    std::filesystem::create_directories(*o.renderDir);
    auto cpu = makeCpuBackend();
    const TranslationResult t = measureTranslation(dir / "mix.wav", o, *cpu);
    ASSERT_EQ(t.models.size(), 9u);
    // The renders measured afresh, from the files.
    LoudnessOptions lo;
    lo.truePeak = false;
    const double ref = *measureLoudness(*t.models[0].render, lo, *cpu).integratedLufs;
    for (const auto& m : t.models) {
        ASSERT_TRUE(m.render.has_value()) << m.id;
        const auto got = measureLoudness(*m.render, lo, *cpu).integratedLufs;
        ASSERT_TRUE(got.has_value()) << m.id;
        EXPECT_NEAR(*got, ref, kMatchToleranceLu) << m.id;
        EXPECT_FALSE(m.verdict.empty()) << m.id;
    }
    EXPECT_EQ(t.models[0].loudnessDifferenceLu, 0.0);
}

TEST(Translation, LostBassRanksASubHeavyMixAboveABassLightOne) {
    TempDir dir;
    const SampleRate fs = 48000;
    writeRawFloat(dir / "sub.wav", mixWith(0.5, false, 0.5, 10 * fs, fs), fs,
                  SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    writeRawFloat(dir / "light.wav", mixWith(0.0, true, 0.5, 10 * fs, fs), fs,
                  SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    TranslationOptions o;
    o.models = selectSpeakers("phone,laptop,tv,earbuds");
    auto cpu = makeCpuBackend();
    const TranslationResult sub = measureTranslation(dir / "sub.wav", o, *cpu);
    const TranslationResult light = measureTranslation(dir / "light.wav", o, *cpu);
    for (std::size_t k = 1; k < sub.models.size(); ++k) {
        EXPECT_GT(sub.models[k].lostBassPercent, light.models[k].lostBassPercent + 10.0) << sub.models[k].id;
        EXPECT_NE(sub.models[k].verdict.find("Bass below"), std::string::npos) << sub.models[k].verdict;
    }
    EXPECT_LT(light.models[1].lostBassPercent, 5.0);
}

TEST(Translation, MonoSummingFlagsAnOutOfPhaseMixWithTheClosedFormLoss) {
    TempDir dir;
    const SampleRate fs = 48000;
    // R = ρ·L + √(1−ρ²)·n with equal levels: the fold keeps (1 + ρ)/2 of the energy.
    for (double rho : {0.9, 0.0, -0.8}) {
        writeRawFloat(dir / "m.wav", mixWith(0.0, false, rho, 10 * fs, fs), fs,
                      SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        TranslationOptions o;
        o.models = selectSpeakers("phone");
        auto cpu = makeCpuBackend();
        const TranslationResult t = measureTranslation(dir / "m.wav", o, *cpu);
        const SpeakerMetrics& phone = t.models[1];
        ASSERT_TRUE(phone.monoLossDb.has_value());
        const double want = -10.0 * std::log10((1.0 + rho) / 2.0);
        // Finite noise: the sample correlation differs from ρ by about 1/√n.
        EXPECT_NEAR(*phone.monoLossDb, want, 0.1) << rho;
        EXPECT_EQ(phone.monoProblem, rho < -0.5) << rho;
        if (phone.monoProblem) {
            EXPECT_NE(phone.verdict.find("out of phase"), std::string::npos) << phone.verdict;
        }
        EXPECT_FALSE(t.models[0].monoLossDb.has_value()); // the monitors do not sum
    }
}

TEST(Translation, AnImpulseResponseFileRendersAsAModel) {
    // A measured "speaker": a first-difference IR (a 6 dB/octave high-pass, |H| = 2·sin(πf/fs)),
    // so its level at 1 kHz is 2·sin(π/48) and it is 10 dB lower at 1000/√10 ≈ 316 Hz.
    TempDir dir;
    const SampleRate fs = 48000;
    writeRawFloat(dir / "diff.wav", Planar{{1.0f, -1.0f}}, fs, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    // White noise plus a strong 45 Hz sine: most of the energy lies below the limit.
    writeRawFloat(dir / "mix.wav", mixWith(0.5, false, 0.5, 10 * fs, fs), fs,
                  SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    TranslationOptions o;
    o.models = selectSpeakers((dir / "diff.wav").string());
    auto cpu = makeCpuBackend();
    const TranslationResult t = measureTranslation(dir / "mix.wav", o, *cpu);
    ASSERT_EQ(t.models.size(), 2u);
    const SpeakerMetrics& m = t.models[1];
    ASSERT_TRUE(m.bassLimitHz.has_value());
    // Read from the measured 1/6-octave curve at 24 points per octave: within a few points.
    const double want =
        std::asin(std::sin(std::numbers::pi / 48.0) / std::sqrt(10.0)) * fs / std::numbers::pi;
    EXPECT_NEAR(std::log2(*m.bassLimitHz / want), 0.0, 0.25) << *m.bassLimitHz << " vs " << want;
    EXPECT_GT(m.lostBassPercent, 50.0);
}

TEST(Translation, SilenceIsAClearError) {
    TempDir dir;
    writeRawFloat(dir / "s.wav", Planar(2, std::vector<float>(48000, 0.0f)), 48000,
                  SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    TranslationOptions o;
    o.models = selectSpeakers("phone");
    auto cpu = makeCpuBackend();
    try {
        measureTranslation(dir / "s.wav", o, *cpu);
        ADD_FAILURE();
    } catch (const AudioContentError& e) {
        EXPECT_NE(std::string(e.what()).find("no loudness"), std::string::npos) << e.what();
    }
}

// A measured response with ±1 dB every twelfth of an octave from 20 Hz: the longest FIR follows it
// within the bound at 48 kHz but not at 96 kHz (its resolution in Hz halves), and the comparison
// says so there, naming the model — and only there. Both sides checked here with an independent
// design of this test's own curve at the longest length.
TEST(Translation, AResponseTheLongestFirCannotFollowIsNamedInTheWarnings) {
    SpeakerModel jagged;
    jagged.id = "jagged";
    jagged.name = "Jagged measurement";
    int i = 0;
    for (double f = 20.0; f < 20000.0; f *= std::pow(2.0, 1.0 / 12.0)) {
        jagged.response.push_back({f, i++ % 2 == 0 ? -1.0 : 1.0});
    }
    const auto curve = [&](double hz) { return std::pow(10.0, curveDb(jagged, hz) / 20.0); };
    for (const SampleRate fs : {48000, 96000}) {
        const bool loose =
            design::designLinearPhaseFir(curve, fs, design::kEqMaxTaps).maxErrorDb > kSpeakerFitDb;
        ASSERT_EQ(loose, fs == 96000) << "the case no longer straddles the bound at " << fs << " Hz";
        TempDir dir;
        writeRawFloat(dir / "mix.wav", mixWith(0.2, false, 0.5, 2 * fs, fs), fs,
                      SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        TranslationOptions o;
        o.models = selectSpeakers("monitors");
        o.models.push_back(jagged);
        auto cpu = makeCpuBackend();
        const TranslationResult t = measureTranslation(dir / "mix.wav", o, *cpu);
        const auto named = std::count_if(t.warnings.begin(), t.warnings.end(), [](const std::string& w) {
            return w.starts_with("Jagged measurement: its 65535-tap FIR follows the response within");
        });
        EXPECT_EQ(named, loose ? 1 : 0) << fs << " Hz";
        EXPECT_EQ(t.warnings.size(), static_cast<std::size_t>(named))
            << fs << " Hz: the monitors are never named";
    }
}

} // namespace
} // namespace lathe::test
