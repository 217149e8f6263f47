// SPDX-License-Identifier: GPL-3.0-or-later
// `lathe batch` end to end, as a label or a render farm runs it: a bad file among good ones,
// reruns that skip finished work, a run killed mid-file and resumed, shards that add up to one run.
#include "Process.h"
#include "TestFiles.h"
#include "TestSignals.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sndfile.h>

#include <csignal>
#include <fstream>
#include <map>
#include <sstream>

namespace lathe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::ProcessResult;
using test::TempDir;

constexpr int kExitSomeFailed = 7; // cli/ExitCodes.h
constexpr SampleRate kRate = 48000;

ProcessResult lathe(const std::vector<std::string>& args, const test::ProcessOptions& o = {}) {
    return test::runProcess(test::latheBinary(), args, o);
}

/// `count` different 3 s stereo programmes (tone plus noise, levels 2 dB apart) in `dir`.
void writeCatalogue(const fs::path& dir, int count) {
    fs::create_directories(dir);
    for (int k = 0; k < count; ++k) {
        const double amplitude = 0.5 * std::pow(10.0, -2.0 * k / 20.0);
        auto left = test::sine(220.0 * (k + 1), amplitude, kRate, 3 * kRate);
        const auto hiss = test::noise(3 * kRate, amplitude / 4, static_cast<std::uint64_t>(k + 1));
        for (std::size_t i = 0; i < left.size(); ++i) {
            left[i] += hiss[i];
        }
        std::string name = "track";
        name += std::to_string(k);
        test::writeRawFloat(dir / (name + ".wav"), {left, hiss}, kRate, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    }
}

std::vector<json> manifestLines(const fs::path& file) {
    std::vector<json> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(json::parse(line));
    }
    return out;
}

std::vector<std::vector<std::string>> csvRows(const fs::path& file) {
    std::vector<std::vector<std::string>> rows;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> fields;
        std::string field;
        bool quoted = false;
        for (char c : line) {
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                fields.push_back(field);
                field.clear();
            } else {
                field += c;
            }
        }
        fields.push_back(field);
        rows.push_back(fields);
    }
    return rows;
}

std::vector<std::string> hiddenFiles(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.path().filename().string()[0] == '.') {
            out.push_back(e.path().string());
        }
    }
    return out;
}

TEST(BatchCli, ACorruptFileIsReportedTheRestFinishAndTheSummaryAgreesWithTheManifest) {
    TempDir d;
    writeCatalogue(d / "in", 4);
    test::writeBytes(d / "in/track1b.wav",
                     {'R', 'I', 'F', 'F', 0, 1, 2, 3, 'W', 'A', 'V', 'E', 9, 9}); // in the middle
    const auto r = lathe({"batch", (d / "in").string(), "-o", (d / "out").string(), "--jobs", "2"});
    ASSERT_EQ(r.exitCode, kExitSomeFailed) << r.err;
    EXPECT_NE(r.err.find("failed track1b"), std::string::npos) << r.err;
    const auto lines = manifestLines(d / "out/manifest.jsonl");
    ASSERT_EQ(lines.size(), 5u);
    std::map<std::string, json> byName;
    for (const auto& e : lines) {
        byName[e["relative"].get<std::string>()] = e;
    }
    EXPECT_EQ(byName["track1b"]["status"], "failed");
    EXPECT_NE(byName["track1b"]["error"].get<std::string>().find("track1b.wav"), std::string::npos);
    EXPECT_FALSE(fs::exists(d / "out/track1b.wav"));
    for (int k = 0; k < 4; ++k) {
        const std::string name = "track" + std::to_string(k);
        ASSERT_EQ(byName[name]["status"], "done") << name;
        EXPECT_TRUE(fs::exists(d / "out" / (name + ".wav")));
        // The default master reaches −14 LUFS from every level.
        EXPECT_NEAR(byName[name]["after"]["integrated_lufs"].get<double>(), -14.0, 0.1) << name;
    }
    // summary.csv: one row per manifest entry, with the manifest's status and figures.
    const auto rows = csvRows(d / "out/summary.csv");
    ASSERT_EQ(rows.size(), 6u); // header + 5
    EXPECT_EQ(rows[0][2], "status");
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const json* e = nullptr;
        for (const auto& l : lines) {
            if (l["input"] == rows[i][0]) {
                e = &l;
            }
        }
        ASSERT_NE(e, nullptr) << rows[i][0];
        EXPECT_EQ(rows[i][2], (*e)["status"].get<std::string>());
        if ((*e)["status"] == "done") {
            EXPECT_NEAR(std::stod(rows[i][4]), (*e)["before"]["integrated_lufs"].get<double>(), 0.005);
            EXPECT_NEAR(std::stod(rows[i][7]), (*e)["after"]["integrated_lufs"].get<double>(), 0.005);
        }
    }
    EXPECT_TRUE(fs::exists(d / "out/summary.html"));
    EXPECT_TRUE(hiddenFiles(d / "out").empty());
}

TEST(BatchCli, ARerunSkipsFinishedFilesAndRetriesFailedOnes) {
    TempDir d;
    writeCatalogue(d / "in", 3);
    test::writeBytes(d / "in/broken.wav", {'n', 'o', 't', ' ', 'a', 'u', 'd', 'i', 'o'});
    ASSERT_EQ(lathe({"batch", (d / "in").string(), "-o", (d / "out").string()}).exitCode, kExitSomeFailed);
    const auto before = test::readBytes(d / "out/track0.wav");
    const auto mtime = fs::last_write_time(d / "out/track0.wav");
    // The broken file is replaced by a good one; nothing else changes.
    fs::remove(d / "in/broken.wav");
    fs::copy_file(d / "in/track2.wav", d / "in/broken.wav");
    const auto r = lathe({"batch", (d / "in").string(), "-o", (d / "out").string()});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("1 done, 3 already done (skipped), 0 failed"), std::string::npos) << r.err;
    EXPECT_EQ(fs::last_write_time(d / "out/track0.wav"), mtime);
    EXPECT_EQ(test::readBytes(d / "out/track0.wav"), before);
    // Other settings are other work: nothing skipped.
    const auto again = lathe({"batch", (d / "in").string(), "-o", (d / "out").string(), "--target", "-16"});
    ASSERT_EQ(again.exitCode, 0) << again.err;
    EXPECT_NE(again.err.find("4 done, 0 already done"), std::string::npos) << again.err;
}

TEST(BatchCli, AKilledRunLeavesNoPartialOutputAndTheRerunRedoesOnlyUnfinishedFiles) {
    TempDir d;
    writeCatalogue(d / "in", 4);
    // track0 is done by an earlier run (of that file alone: the manifest knows it by its path).
    ASSERT_EQ(lathe({"batch", (d / "in/track0.wav").string(), "-o", (d / "out").string()}).exitCode, 0);
    // Then the whole catalogue, slowed down (a sleep per block), killed with SIGKILL — no chance
    // to clean up — in the middle of the first output it writes (track1's: track0 is skipped):
    // its first limiter pass, after the three blocks of the chain before the limiter (3 s of
    // stereo). One file at a time, so that the blocks come in that order (the outputs do not
    // depend on the job count).
    test::ProcessOptions slow;
    slow.env["LATHE_TEST_BLOCK_DELAY_MS"] = "100";
    slow.signalWhenStderrContains = "test hook: render block";
    slow.signalOnOccurrence = 4;
    slow.signal = SIGKILL;
    const auto killed = lathe({"batch", (d / "in").string(), "-o", (d / "out").string(), "-j", "1"}, slow);
    ASSERT_EQ(killed.exitCode, 128 + SIGKILL) << killed.err;
    EXPECT_NE(killed.err.find("skipped track0"), std::string::npos) << killed.err;
    EXPECT_FALSE(hiddenFiles(d / "out").empty()) << "the kill came when no temporary file existed";
    const auto lines = manifestLines(d / "out/manifest.jsonl");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["relative"], "track0");
    for (int k = 1; k < 4; ++k) {
        EXPECT_FALSE(fs::exists(d / "out" / ("track" + std::to_string(k) + ".wav"))) << k;
    }
    // What a kill leaves of an intermediate too long for memory (a float file beside the output,
    // and that file's own temporary): the rerun removes those as well.
    test::writeBytes(d / "out/.track2.lathe-prelimiter.4242.wav", {'x'});
    test::writeBytes(d / "out/..track2.lathe-prelimiter.4242.wav.lathe-4242-1", {'x'});
    const auto r = lathe({"batch", (d / "in").string(), "-o", (d / "out").string()});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("3 done, 1 already done (skipped), 0 failed"), std::string::npos) << r.err;
    EXPECT_TRUE(hiddenFiles(d / "out").empty()) << "a killed run's temporary file was left behind";
    // Every output equals an uninterrupted run's, bit for bit.
    ASSERT_EQ(lathe({"batch", (d / "in").string(), "-o", (d / "clean").string()}).exitCode, 0);
    for (int k = 0; k < 4; ++k) {
        const std::string name = "track" + std::to_string(k) + ".wav";
        EXPECT_EQ(test::readBytes(d / "out" / name), test::readBytes(d / "clean" / name)) << name;
    }
}

TEST(BatchCli, ShardsTogetherEqualOneRunAndMergeIntoOneSummary) {
    TempDir d;
    writeCatalogue(d / "in", 5);
    for (int i = 0; i < 3; ++i) {
        const auto r = lathe({"batch", (d / "in").string(), "-o", (d / "sharded").string(), "--shard",
                              std::to_string(i) + "/3", "--preset", "transparent"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        EXPECT_TRUE(fs::exists(d / "sharded" / ("manifest.shard-" + std::to_string(i) + "-of-3.jsonl")));
    }
    ASSERT_EQ(lathe({"batch", (d / "in").string(), "-o", (d / "single").string(), "--preset", "transparent"})
                  .exitCode,
              0);
    const auto merged = lathe({"batch", "--merge", (d / "sharded").string()});
    ASSERT_EQ(merged.exitCode, 0) << merged.err;
    EXPECT_EQ(csvRows(d / "sharded/summary.csv").size(), 6u);
    for (int k = 0; k < 5; ++k) {
        const std::string name = "track" + std::to_string(k) + ".wav";
        EXPECT_EQ(test::readBytes(d / "sharded" / name), test::readBytes(d / "single" / name)) << name;
    }
    EXPECT_EQ(lathe({"batch", "--merge", (d / "in").string()}).exitCode, 3); // no manifest there
    EXPECT_EQ(lathe({"batch", (d / "in").string(), "-o", (d / "x").string(), "--shard", "3/3"}).exitCode, 2);
}

json readJson(const fs::path& p) {
    std::ifstream in(p);
    return json::parse(in);
}

TEST(BatchCli, AlbumModeAppliesOneGainAndKeepsTheSongsDifferencesExactly) {
    TempDir d;
    writeCatalogue(d / "in", 3); // 0, −2 and −4 dB
    // No processing (transparent) so that only the album gain acts; float output, no dither.
    const auto r = lathe({"batch", (d / "in").string(), "-o", (d / "out").string(), "--album", "--preset",
                          "transparent", "--target", "-18", "--bits", "32f"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::map<std::string, json> byName;
    for (const auto& e : manifestLines(d / "out/manifest.jsonl")) {
        byName[e["relative"].get<std::string>()] = e;
    }
    ASSERT_EQ(byName.size(), 3u);
    const double gain = byName["track0"]["album_gain_db"].get<double>();
    const double before0 = byName["track0"]["before"]["integrated_lufs"].get<double>();
    const double after0 = byName["track0"]["after"]["integrated_lufs"].get<double>();
    // The loudness meter reads a gain of g dB as g dB (within its float rounding).
    constexpr double kMeterRoundingLu = 0.002;
    EXPECT_NEAR(after0 - before0, gain, kMeterRoundingLu);
    for (const char* name : {"track1", "track2"}) {
        EXPECT_EQ(byName[name]["album_gain_db"].get<double>(), gain) << name;
        const double before = byName[name]["before"]["integrated_lufs"].get<double>();
        const double after = byName[name]["after"]["integrated_lufs"].get<double>();
        // The difference to track0 is what it was.
        EXPECT_NEAR(after - after0, before - before0, kMeterRoundingLu) << name;
    }
    const json album = readJson(d / "out/album.json");
    EXPECT_NEAR(album["album"]["album_lufs"].get<double>(), -18.0, 0.01);
    EXPECT_TRUE(album["album"]["note"].is_null());
    EXPECT_NEAR(album["loudness_spread_lu"].get<double>(),
                byName["track0"]["after"]["integrated_lufs"].get<double>() -
                    byName["track2"]["after"]["integrated_lufs"].get<double>(),
                1e-9);
    EXPECT_NE(test::readBytes(d / "out/summary.html").size(), 0u);
    // A rerun of the unchanged album skips it whole; sharding an album is refused.
    const auto again = lathe({"batch", (d / "in").string(), "-o", (d / "out").string(), "--album", "--preset",
                              "transparent", "--target", "-18", "--bits", "32f"});
    EXPECT_NE(again.err.find("0 done, 3 already done"), std::string::npos) << again.err;
    EXPECT_EQ(
        lathe({"batch", (d / "in").string(), "-o", (d / "x").string(), "--album", "--shard", "0/2"}).exitCode,
        2);
}

TEST(BatchCli, AlbumGainStopsAtTheCeiling) {
    TempDir d;
    writeCatalogue(d / "in", 2); // true peaks near −3 dBTP: −5 LUFS cannot be reached without a limiter
    const auto r = lathe({"batch", (d / "in").string(), "-o", (d / "out").string(), "--album", "--preset",
                          "transparent", "--target", "-5", "--bits", "32f"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const json album = readJson(d / "out/album.json");
    ASSERT_TRUE(album["album"]["note"].is_string());
    EXPECT_NE(album["album"]["note"].get<std::string>().find("short of the target"), std::string::npos);
    double loudest = -INFINITY;
    for (const auto& s : album["songs"]) {
        loudest = std::max(loudest, s["true_peak_dbtp"].get<double>());
    }
    EXPECT_NEAR(loudest, -1.0, 0.01); // the loudest song's true peak lands on the ceiling
}

TEST(BatchCli, AnalyzeOnlyWritesEachFilesAnalysis) {
    TempDir d;
    writeCatalogue(d / "in", 2);
    const auto r = lathe({"batch", (d / "in").string(), "-o", (d / "out").string(), "--analyze-only"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    for (int k = 0; k < 2; ++k) {
        std::ifstream in(d / "out" / ("track" + std::to_string(k) + ".json"));
        const json j = json::parse(in);
        EXPECT_TRUE(j.contains("loudness")) << k;
        EXPECT_FALSE(fs::exists(d / "out" / ("track" + std::to_string(k) + ".wav")));
    }
}

} // namespace
} // namespace lathe
