// `lathe speakers` and `lathe compare` end to end (issue 9), through the built binary.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "Process.h"
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/CodecPreview.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sndfile.h>

namespace lathe::test {
namespace {

constexpr int kExitUsage = 2; // cli/ExitCodes.h

void writeMix(const std::filesystem::path& p, double gain, std::uint64_t seed) {
    const SampleRate fs = 48000;
    std::vector<float> l = noise(6 * fs, 0.1 * gain, seed);
    std::vector<float> r = noise(6 * fs, 0.1 * gain, seed + 1);
    const std::vector<float> bass = sine(50.0, 0.3 * gain, fs, 6 * fs);
    for (std::size_t i = 0; i < l.size(); ++i) {
        l[i] += bass[i];
        r[i] += bass[i];
    }
    writeRawFloat(p, Planar{l, r}, fs, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
}

TEST(CompareCli, SpeakersListsTheNineBuiltInModels) {
    const ProcessResult r = runProcess(latheBinary(), {"speakers", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.size(), 9u);
    EXPECT_EQ(j[0]["id"], "monitors");
    const ProcessResult one = runProcess(latheBinary(), {"speakers", "phone"});
    ASSERT_EQ(one.exitCode, 0) << one.err;
    EXPECT_NE(one.out.find("why:"), std::string::npos) << one.out;
}

TEST(CompareCli, OneFileGivesEveryModelsMetricsVerdictAndReport) {
    TempDir dir;
    writeMix(dir / "master.wav", 1.0, 3);
    const ProcessResult r =
        runProcess(latheBinary(), {"compare", (dir / "master.wav").string(), "--json", "--html",
                                   (dir / "r.html").string(), "--render", (dir / "ren").string()});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["models"].size(), 9u);
    for (const auto& m : j["models"]) {
        EXPECT_FALSE(m["verdict"].get<std::string>().empty());
        EXPECT_EQ(m["band_difference_db"].size(), j["band_centres_hz"].size());
        EXPECT_TRUE(std::filesystem::exists(dir / "ren" / ("master." + m["id"].get<std::string>() + ".wav")));
    }
    const std::string html = [&] {
        const auto b = readBytes(dir / "r.html");
        return std::string(b.begin(), b.end());
    }();
    EXPECT_NE(html.find("id=\"translation\""), std::string::npos);
    EXPECT_NE(html.find("data-series=\"translation-phone\""), std::string::npos);
    EXPECT_NE(html.find("data-speaker=\"club-pa\""), std::string::npos);
}

TEST(CompareCli, TwoFilesGiveSideBySideDeltas) {
    TempDir dir;
    writeMix(dir / "a.wav", 1.0, 3);
    writeMix(dir / "b.wav", 0.5, 5);
    const ProcessResult r =
        runProcess(latheBinary(), {"compare", (dir / "a.wav").string(), (dir / "b.wav").string(),
                                   "--speakers", "phone,car", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["models"].size(), 3u); // the monitors always come first
    for (const auto& m : j["models"]) {
        const double a = m["a"]["lost_bass_percent"];
        const double b = m["b"]["lost_bass_percent"];
        EXPECT_DOUBLE_EQ(m["delta_b_minus_a"]["lost_bass_percent"].get<double>(), b - a);
    }
}

TEST(CompareCli, AnUnknownModelIsAUsageErrorNamingTheKnownOnes) {
    TempDir dir;
    writeMix(dir / "a.wav", 1.0, 3);
    const ProcessResult r =
        runProcess(latheBinary(), {"compare", (dir / "a.wav").string(), "--speakers", "walkman"});
    EXPECT_EQ(r.exitCode, kExitUsage);
    EXPECT_NE(r.err.find("no speaker model 'walkman'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("club-pa"), std::string::npos) << r.err;
}

TEST(CompareCli, AnalyzeWithSpeakersCarriesTheTranslationSectionInJsonAndHtml) {
    TempDir dir;
    writeMix(dir / "m.wav", 1.0, 13);
    const ProcessResult r =
        runProcess(latheBinary(), {"analyze", (dir / "m.wav").string(), "--speakers", "phone", "--json",
                                   "--html", (dir / "r.html").string()});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["translation"]["models"].size(), 2u);
    EXPECT_EQ(j["translation"]["models"][1]["id"], "phone");
    EXPECT_TRUE(j["loudness"]["integrated_lufs"].is_number()); // the analysis is all still there
    const auto b = readBytes(dir / "r.html");
    const std::string html(b.begin(), b.end());
    EXPECT_NE(html.find("id=\"translation\""), std::string::npos);
    EXPECT_NE(html.find("id=\"spectrum\""), std::string::npos);
}

TEST(CodecsCli, PreviewCodecsAndAnalyzeCodecsReportPostCodecFigures) {
    if (!codecPreviewAvailable()) {
        GTEST_SKIP() << "this build has no codecs (LATHE_ENABLE_CODECS=OFF)";
    }
    TempDir dir;
    writeMix(dir / "m.wav", 1.0, 9);
    const ProcessResult r = runProcess(latheBinary(), {"preview-codecs", (dir / "m.wav").string(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["codecs"].size(), 4u);
    bool someCodec = false;
    for (const auto& p : j["platforms"]) {
        if (!p["codec"].is_null()) {
            someCodec = true;
            EXPECT_TRUE(p["post_codec_true_peak_dbtp"].is_number()) << p.dump();
        }
    }
    EXPECT_TRUE(someCodec);
    EXPECT_TRUE(r.err.find("[aac") == std::string::npos) << "FFmpeg's log leaked: " << r.err;
    const ProcessResult a = runProcess(latheBinary(), {"analyze", (dir / "m.wav").string(), "--codecs",
                                                       "--html", (dir / "a.html").string()});
    ASSERT_EQ(a.exitCode, 0) << a.err;
    EXPECT_NE(a.out.find("true peak after decode"), std::string::npos) << a.out;
    const auto b = readBytes(dir / "a.html");
    EXPECT_NE(std::string(b.begin(), b.end()).find("data-codec=\"opus-160\""), std::string::npos);
    const ProcessResult bad =
        runProcess(latheBinary(), {"preview-codecs", (dir / "m.wav").string(), "--codecs", "wma"});
    EXPECT_EQ(bad.exitCode, kExitUsage);
    EXPECT_NE(bad.err.find("no codec 'wma'"), std::string::npos) << bad.err;
}

} // namespace
} // namespace lathe::test
