// SPDX-License-Identifier: GPL-3.0-or-later
// The bad-input catalogue (../shared/reference/bad-input.md) end to end: every row through
// `lathe info`, `analyze`, `master`, `batch`, `compare` and `preview-codecs`, each with its exit code and the
// message a user gets, and never a file left behind by a failure. Table-driven: a new row is one line.
#include "Process.h"
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/CodecPreview.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <functional>

namespace lathe {
namespace {

namespace fs = std::filesystem;
using test::Planar;
using test::TempDir;

constexpr SampleRate kRate = 48000;
/// The limiter verifies its ceiling with the meter's own ×16 interpolator; a fresh measurement of
/// the 16-bit file adds at most the quantisation (1 LSB ≈ −90 dBFS) and the 0.012 dB ripple of the
/// meter's interpolation: 0.02 dB covers both.
constexpr double kCeilingMarginDb = 0.02;

/// 16-bit PCM WAV bytes: a header stating `statedFrames` and `presentFrames` of a −12 dBFS tone.
std::vector<std::uint8_t> pcm16(int channels, std::uint32_t rate, std::uint32_t statedFrames,
                                std::uint32_t presentFrames) {
    std::vector<std::uint8_t> b = test::wavHeader(channels, rate, 16, statedFrames * channels * 2u);
    for (std::uint32_t n = 0; n < presentFrames; ++n) {
        const auto v = static_cast<std::int16_t>(8000.0 * std::sin(0.1 * n));
        for (int c = 0; c < channels; ++c) {
            b.push_back(static_cast<std::uint8_t>(v & 0xff));
            b.push_back(static_cast<std::uint8_t>((v >> 8) & 0xff));
        }
    }
    return b;
}

/// What one command must do with one row's file: its exit code and a fragment of what it prints.
struct Expect {
    Expect(int code, const char* text) : exitCode(code), fragment(text) {}
    int exitCode;
    std::string fragment; ///< in stderr or stdout ("" = nothing required)
};

struct Row {
    std::string name;
    std::function<void(const fs::path&)> write;
    Expect info, analyze, master, batch; ///< batch: the fragment is the manifest's error
    Expect compare, codecs;              ///< `lathe compare` (all speakers), `lathe preview-codecs`
};

std::vector<Row> catalogue() {
    auto bytes = [](std::vector<std::uint8_t> b) {
        return [b](const fs::path& p) { test::writeBytes(p, b); };
    };
    std::vector<std::uint8_t> zeroChannels = pcm16(2, kRate, 100, 100);
    zeroChannels[22] = 0; // fmt channels
    zeroChannels[23] = 0;
    std::vector<std::uint8_t> manyChannels = pcm16(2, kRate, 100, 100);
    manyChannels[22] = 0xff;
    manyChannels[23] = 0xff;
    std::vector<std::uint8_t> rateZero = pcm16(2, kRate, 100, 100);
    std::fill(rateZero.begin() + 24, rateZero.begin() + 28, std::uint8_t{0});
    const std::string text = "this is not audio\n";
    std::vector<std::uint8_t> silence = test::wavHeader(2, kRate, 16, 3u * kRate * 4u);
    silence.resize(silence.size() + 3u * kRate * 4u, 0);
    const Expect unreadable{3, "not a readable audio file"};
    // One push_back a row (a single initializer list of them trips GCC 12's -Wmaybe-uninitialized).
    std::vector<Row> rows;
    rows.push_back(Row{"zero-length file",
                       bytes({}),
                       {3, "file is empty"},
                       {3, "file is empty"},
                       {3, "file is empty"},
                       {7, "file is empty"},
                       {3, "file is empty"},
                       {3, "file is empty"}});
    rows.push_back(Row{"a text file named .wav",
                       bytes({text.begin(), text.end()}),
                       {3, "supported formats: WAV"},
                       unreadable,
                       unreadable,
                       {7, "not a readable audio file"},
                       unreadable,
                       unreadable});
    rows.push_back(Row{"header only (0 frames)",
                       bytes(pcm16(2, kRate, 0, 0)),
                       {0, "no audio (0 frames)"},
                       {0, "integrated       —   no audio (0 frames)"},
                       {5, "no audio (0 frames)"},
                       {7, "no audio"},
                       {5, "no audio (0 frames)"},
                       {5, "no audio (0 frames)"}});
    rows.push_back(Row{"truncated WAV",
                       bytes(pcm16(2, kRate, 144000, 25000)),
                       {0, "truncated: 25000 of 144000 frames"},
                       {0, "truncated: 25000 of 144000 frames"},
                       {0, "truncated: 25000 of 144000 frames"},
                       {0, ""},
                       {0, "truncated: 25000 of 144000 frames"},
                       {0, "truncated: 25000 of 144000 frames"}});
    rows.push_back(Row{"0 channels",
                       bytes(zeroChannels),
                       {3, "Channel count is zero"},
                       unreadable,
                       unreadable,
                       {7, "Channel count is zero"},
                       unreadable,
                       unreadable});
    rows.push_back(Row{"65535 channels",
                       bytes(manyChannels),
                       {3, "Too many channels"},
                       unreadable,
                       unreadable,
                       {7, "Too many channels"},
                       unreadable,
                       unreadable});
    rows.push_back(Row{"sample rate 0",
                       bytes(rateZero),
                       unreadable,
                       unreadable,
                       unreadable,
                       {7, "not a readable audio file"},
                       unreadable,
                       unreadable});
    rows.push_back(
        Row{"NaN in a float WAV",
            [](const fs::path& p) {
                Planar x{test::sine(441, 0.5, kRate, 3 * kRate), test::sine(441, 0.5, kRate, 3 * kRate)};
                x[0][1000] = NAN;
                test::writeRawFloat(p, x, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
            },
            {0, "non-finite samples (NaN/Inf), the first at frame 1000"},
            {5, "non-finite sample (NaN or Inf) at frame 1000"},
            {5, "use --sanitize"},
            {7, "non-finite sample"},
            {5, "non-finite sample (NaN or Inf) at frame 1000"},
            {5, "non-finite sample (NaN or Inf) at frame 1000"}});
    rows.push_back(Row{"silence",
                       bytes(silence),
                       {0, "-inf dBFS"},
                       {0, "silence: no 400 ms block"},
                       {5, "cannot reach a loudness target: silence"},
                       {7, "silence"},
                       {5, "no loudness to compare speakers at: silence"},
                       {0, "AAC-LC 256 kbps"}});
    rows.push_back(Row{"shorter than 400 ms",
                       bytes(pcm16(2, kRate, 14400, 14400)),
                       {0, ""},
                       {0, "too short"},
                       {5, "too short"},
                       {7, "too short"},
                       {5, "too short"},
                       {0, ""}});
    rows.push_back(Row{"mono",
                       bytes(pcm16(1, kRate, 3 * kRate, 3 * kRate)),
                       {0, "mono"},
                       {0, "integrated"},
                       {0, ""},
                       {0, ""},
                       {0, "Phone speaker"},
                       {0, "MP3 320 kbps"}});
    rows.push_back(Row{"6 channels without a channel mask",
                       bytes(pcm16(6, kRate, 3 * kRate, 3 * kRate)),
                       {0, "pass --layout"},
                       {3, "pass --layout"},
                       {3, "pass --layout"},
                       {7, "pass --layout"},
                       {3, "pass --layout"},
                       {2, "mono or stereo"}});
    auto floatWav = [](std::function<void(Planar&)> edit, Frames frames = 3 * kRate) {
        return [edit, frames](const fs::path& p) {
            Planar x{test::sine(441, 0.5, kRate, frames), test::sine(441, 0.5, kRate, frames)};
            edit(x);
            test::writeRawFloat(p, x, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        };
    };
    std::vector<std::uint8_t> streamed = pcm16(2, kRate, 3 * kRate, 3 * kRate);
    std::fill(streamed.begin() + 40, streamed.begin() + 44, std::uint8_t{0xff}); // data size 0xFFFFFFFF
    rows.push_back(Row{"header lies long (streamed WAV)",
                       bytes(streamed),
                       {0, "streamed file"},
                       {0, "streamed file"},
                       {0, "streamed file"},
                       {0, ""},
                       {0, "streamed file"},
                       {0, "streamed file"}});
    rows.push_back(Row{"truncated FLAC",
                       [](const fs::path& p) {
                           std::vector<std::vector<std::int32_t>> x(2, std::vector<std::int32_t>(10 * kRate));
                           for (std::size_t i = 0; i < x[0].size(); ++i) {
                               x[0][i] = x[1][i] = static_cast<std::int32_t>(
                                   8000.0 * std::sin(0.05 * static_cast<double>(i)) +
                                   static_cast<double>(i * 7919 % 301));
                           }
                           const fs::path flac = p.parent_path() / "full.flac.tmp";
                           test::writeRawInt(flac, x, kRate, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
                           auto b = test::readBytes(flac);
                           fs::remove(flac);
                           b.resize(b.size() * 6 / 10);
                           test::writeBytes(p, b);
                       },
                       {3, "truncated or corrupt"},
                       {3, "truncated or corrupt"},
                       {3, "truncated or corrupt"},
                       {7, "truncated or corrupt"},
                       {3, "truncated or corrupt"},
                       {3, "truncated or corrupt"}});
    rows.push_back(Row{"9 channels without a channel mask",
                       bytes(pcm16(9, kRate, 3 * kRate, 3 * kRate)),
                       {0, "pass --layout"},
                       {3, "pass --layout"},
                       {3, "pass --layout"},
                       {7, "pass --layout"},
                       {3, "pass --layout"},
                       {2, "mono or stereo"}});
    rows.push_back(Row{"sample rate 1 Hz",
                       bytes(pcm16(2, 1, 100, 100)),
                       {3, "outside the supported range 8000–384000 Hz"},
                       {3, "outside the supported range"},
                       {3, "outside the supported range"},
                       {7, "outside the supported range"},
                       {3, "outside the supported range"},
                       {3, "outside the supported range"}});
    rows.push_back(Row{"+Inf in a float WAV",
                       floatWav([](Planar& x) { x[1][2000] = INFINITY; }),
                       {0, "non-finite"},
                       {5, "at frame 2000, channel 2"},
                       {5, "use --sanitize"},
                       {7, "non-finite"},
                       {5, "non-finite"},
                       {5, "non-finite"}});
    rows.push_back(Row{"1e30 in a float WAV (legal, far over full scale)",
                       floatWav([](Planar& x) { x[0][1000] = 1e30f; }),
                       {0, "600.0"},
                       {0, "Inter-sample peaks"},
                       {0, "quieter than the target"},
                       {0, ""},
                       {0, ""},
                       {5, "far beyond what a codec can encode"}});
    rows.push_back(Row{"denormals (1e-40)",
                       floatWav([](Planar& x) {
                           for (auto& c : x) {
                               std::fill(c.begin(), c.end(), 1e-40f);
                           }
                       }),
                       {0, ""},
                       {0, "too quiet"},
                       {5, "cannot reach a loudness target"},
                       {7, "cannot reach a loudness target"},
                       {5, "too quiet"},
                       {0, ""}});
    rows.push_back(Row{"DC offset 0.5",
                       floatWav([](Planar& x) {
                           for (auto& c : x) {
                               for (float& v : c) {
                                   v = 0.5f + 0.1f * v;
                               }
                           }
                       }),
                       {0, ""},
                       {0, "DC offset"},
                       {0, ""},
                       {0, ""},
                       {0, ""},
                       {0, ""}});
    rows.push_back(Row{"tone at -70.5 dBFS",
                       floatWav([](Planar& x) {
                           for (auto& c : x) {
                               for (float& v : c) {
                                   v *= static_cast<float>(std::pow(10.0, -70.5 / 20.0) / 0.5);
                               }
                           }
                       }),
                       {0, ""},
                       {0, "too quiet"},
                       {5, "too quiet"},
                       {7, "too quiet"},
                       {5, "too quiet"},
                       {0, ""}});
    return rows;
}

std::string readText(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void expectOutcome(const test::ProcessResult& r, const Expect& e, const std::string& what) {
    EXPECT_EQ(r.exitCode, e.exitCode) << what << "\n" << r.err;
    if (!e.fragment.empty()) {
        EXPECT_TRUE(r.err.find(e.fragment) != std::string::npos ||
                    r.out.find(e.fragment) != std::string::npos)
            << what << ": expected \"" << e.fragment << "\" in\n"
            << r.err << r.out;
    }
}

TEST(BadInputCatalogue, EveryRowThroughEveryCommand) {
    const std::string lathe = test::latheBinary();
    for (const Row& row : catalogue()) {
        TempDir d;
        fs::create_directories(d / "in");
        const fs::path input = d / "in" / "input.wav";
        row.write(input);
        const auto original = test::readBytes(input);
        expectOutcome(test::runProcess(lathe, {"info", input.string()}), row.info, row.name + " / info");
        expectOutcome(test::runProcess(lathe, {"analyze", input.string()}), row.analyze,
                      row.name + " / analyze");
        // master: an existing output survives a failure untouched, and no temporary file is left.
        test::writeBytes(d / "master.wav", {'o', 'l', 'd'});
        const auto m = test::runProcess(lathe, {"master", input.string(), "-o", (d / "master.wav").string()});
        expectOutcome(m, row.master, row.name + " / master");
        if (row.master.exitCode != 0) {
            EXPECT_EQ(test::readBytes(d / "master.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}))
                << row.name;
        }
        const auto b = test::runProcess(lathe, {"batch", (d / "in").string(), "-o", (d / "batch").string()});
        EXPECT_EQ(b.exitCode, row.batch.exitCode) << row.name << " / batch\n" << b.err;
        const std::string manifest = readText(d / "batch" / "manifest.jsonl");
        EXPECT_NE(manifest.find(row.batch.exitCode == 0 ? "\"status\":\"done\"" : "\"status\":\"failed\""),
                  std::string::npos)
            << row.name << " / batch manifest: " << manifest;
        EXPECT_NE(manifest.find(row.batch.fragment), std::string::npos)
            << row.name << " / batch: " << manifest;
        EXPECT_EQ(fs::exists(d / "batch" / "input.wav"), row.batch.exitCode == 0) << row.name;
        expectOutcome(test::runProcess(lathe, {"compare", input.string()}), row.compare,
                      row.name + " / compare");
        if (codecPreviewAvailable()) {
            expectOutcome(test::runProcess(lathe, {"preview-codecs", input.string()}), row.codecs,
                          row.name + " / preview-codecs");
        }
        for (const auto& e : fs::recursive_directory_iterator(d.path())) {
            EXPECT_NE(e.path().filename().string().rfind(".", 0), 0u) << row.name << ": left " << e.path();
        }
        EXPECT_EQ(test::readBytes(input), original) << row.name << ": the input was modified";
    }
}

TEST(BadInputCatalogue, OutputsThatCannotBeWrittenAreRefusedBeforeAnyWork) {
    TempDir d;
    test::writeBytes(d / "in.wav", pcm16(2, kRate, kRate, kRate));
    const std::string lathe = test::latheBinary();
    // The output is the input (also through a hard link): refused, the input intact.
    const auto before = test::readBytes(d / "in.wav");
    auto r = test::runProcess(lathe, {"master", (d / "in.wav").string(), "-o", (d / "in.wav").string()});
    EXPECT_EQ(r.exitCode, 4) << r.err;
    EXPECT_NE(r.err.find("is the input file"), std::string::npos) << r.err;
    fs::create_hard_link(d / "in.wav", d / "link.wav");
    r = test::runProcess(lathe, {"master", (d / "in.wav").string(), "-o", (d / "link.wav").string()});
    EXPECT_EQ(r.exitCode, 4) << r.err;
    EXPECT_EQ(test::readBytes(d / "in.wav"), before);
    // A directory that does not exist.
    r = test::runProcess(lathe,
                         {"master", (d / "in.wav").string(), "-o", (d / "no/such/dir/o.wav").string()});
    EXPECT_EQ(r.exitCode, 4) << r.err;
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
    // batch: the output directory inside the inputs is never read as input; as the input itself, refused.
    r = test::runProcess(lathe, {"batch", d.path().string(), "-o", d.path().string()});
    EXPECT_EQ(r.exitCode, 2) << r.err;
}

/// The rows whose promise is about the output, each checked on the file Lathe writes.
TEST(BadInputCatalogue, OutputRowsKeepTheirPromises) {
    TempDir d;
    const std::string lathe = test::latheBinary();
    // Full-scale 1 kHz square wave (TP +1.95 dBTP at sample peak 0): the 16-bit master neither wraps
    // nor passes the ceiling, measured afresh by analyze.
    {
        Planar x(2, std::vector<float>(3 * kRate));
        for (std::size_t i = 0; i < x[0].size(); ++i) {
            x[0][i] = x[1][i] = (i / 24) % 2 == 0 ? 1.0f : -1.0f;
        }
        test::writeRawFloat(d / "square.wav", x, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        const auto m = test::runProcess(lathe, {"master", (d / "square.wav").string(), "-o",
                                                (d / "square16.wav").string(), "--bits", "16"});
        ASSERT_EQ(m.exitCode, 0) << m.err;
        const auto a = test::runProcess(lathe, {"analyze", (d / "square16.wav").string(), "--json"});
        ASSERT_EQ(a.exitCode, 0) << a.err;
        const auto j = nlohmann::json::parse(a.out);
        EXPECT_LE(j["loudness"]["true_peak_dbtp"].get<double>(), -1.0 + kCeilingMarginDb) << a.out;
        // No wrap-around: every 16-bit sample of a square wave stays on its own side of zero.
        const auto y = test::readRawInt(d / "square16.wav");
        std::size_t flips = 0;
        for (std::size_t i = 1; i < y[0].size(); ++i) {
            flips += ((y[0][i] > 0) != (y[0][i - 1] > 0)) ? 1 : 0;
        }
        EXPECT_LE(flips, y[0].size() / 24 + 2) << "sign changes beyond the square's own";
    }
    // FLAC from float: refused with the way out; the default depth (24) works.
    {
        test::writeRawFloat(d / "f.wav", Planar(2, test::sine(1000, 0.5, kRate, kRate)), kRate,
                            SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        const auto bad = test::runProcess(
            lathe, {"convert", (d / "f.wav").string(), "-o", (d / "f.flac").string(), "--bits", "32f"});
        EXPECT_EQ(bad.exitCode, 2) << bad.err;
        EXPECT_NE(bad.err.find("FLAC"), std::string::npos) << bad.err;
        EXPECT_FALSE(fs::exists(d / "f.flac"));
        const auto ok =
            test::runProcess(lathe, {"convert", (d / "f.wav").string(), "-o", (d / "f.flac").string()});
        EXPECT_EQ(ok.exitCode, 0) << ok.err;
        SF_INFO info{};
        SNDFILE* f = sf_open((d / "f.flac").c_str(), SFM_READ, &info);
        ASSERT_NE(f, nullptr);
        EXPECT_EQ(info.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);
        sf_close(f);
    }
    // 5.1 with a channel mask and only the LFE playing: no loudness (the LFE is not weighted), said
    // so, and a loudness target is refused rather than met with infinite gain.
    {
        SF_INFO info{};
        info.channels = 6;
        info.samplerate = kRate;
        info.format = SF_FORMAT_WAVEX | SF_FORMAT_FLOAT;
        SNDFILE* f = sf_open((d / "lfe.wav").c_str(), SFM_WRITE, &info);
        ASSERT_NE(f, nullptr);
        int map[6] = {SF_CHANNEL_MAP_LEFT, SF_CHANNEL_MAP_RIGHT,     SF_CHANNEL_MAP_CENTER,
                      SF_CHANNEL_MAP_LFE,  SF_CHANNEL_MAP_REAR_LEFT, SF_CHANNEL_MAP_REAR_RIGHT};
        sf_command(f, SFC_SET_CHANNEL_MAP_INFO, map, sizeof map);
        const auto tone = test::sine(60, 0.9, kRate, 3 * kRate);
        std::vector<float> inter;
        for (float v : tone) {
            inter.insert(inter.end(), {0.0f, 0.0f, 0.0f, v, 0.0f, 0.0f});
        }
        sf_writef_float(f, inter.data(), static_cast<sf_count_t>(tone.size()));
        sf_close(f);
        const auto a = test::runProcess(lathe, {"analyze", (d / "lfe.wav").string(), "--json"});
        ASSERT_EQ(a.exitCode, 0) << a.err;
        const auto j = nlohmann::json::parse(a.out);
        EXPECT_TRUE(j["loudness"]["integrated_lufs"].is_null()) << a.out;
        EXPECT_TRUE(j["loudness"]["true_peak_dbtp"].is_number()) << a.out; // peaks count every channel
        const auto m =
            test::runProcess(lathe, {"master", (d / "lfe.wav").string(), "-o", (d / "lfe-m.wav").string()});
        EXPECT_EQ(m.exitCode, 5) << m.err;
        EXPECT_NE(m.err.find("cannot reach a loudness target"), std::string::npos) << m.err;
        EXPECT_FALSE(fs::exists(d / "lfe-m.wav"));
    }
}

} // namespace
} // namespace lathe
