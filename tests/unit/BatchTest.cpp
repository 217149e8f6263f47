// SPDX-License-Identifier: GPL-3.0-or-later
// Batch planning: discovery, shards as a partition, the manifest as the record of what is done.
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/Batch.h>
#include <lathe/Error.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <fstream>
#include <map>
#include <set>

namespace lathe {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

void touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
}

TEST(Batch, DiscoveryRecursesSortsAndSkipsHiddenNonAudioAndTheOutputDirectory) {
    TempDir d;
    touch(d / "cat/b.wav");
    touch(d / "cat/a.flac");
    touch(d / "cat/sub/c.AIFF");
    touch(d / "cat/notes.pdf");
    touch(d / "cat/.a.wav.lathe-123456"); // a temporary file of an earlier run
    touch(d / "cat/.hidden/x.wav");
    touch(d / "cat/out/old.wav"); // the output directory inside the input directory
    const auto items = batch::discover({d / "cat"}, d / "cat/out");
    std::vector<std::string> rel;
    for (const auto& it : items) {
        rel.push_back(it.relative.string());
    }
    EXPECT_EQ(rel, (std::vector<std::string>{"a", "b", "sub/c"}));
}

TEST(Batch, ListFilesNameFilesAndDirectoriesRelativeToThemselves) {
    TempDir d;
    touch(d / "x/one.wav");
    touch(d / "y/two.wav");
    touch(d / "y/deeper/three.wav");
    fs::create_directories(d / "lists");
    std::ofstream(d / "lists/catalogue.txt") << "# a catalogue\n../x/one.wav\n\n"
                                             << (d / "y").string() << "\n";
    const auto items = batch::discover({d / "lists/catalogue.txt"});
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0].relative, fs::path("deeper/three"));
    EXPECT_EQ(items[1].relative, fs::path("one"));
    EXPECT_EQ(items[2].relative, fs::path("two"));
}

TEST(Batch, BadInputsAreRefusedBeforeAnyWork) {
    TempDir d;
    touch(d / "a/song.wav");
    touch(d / "b/song.flac");
    EXPECT_THROW(batch::discover({d / "a", d / "b"}), UsageError); // both would write song.wav
    EXPECT_THROW(batch::discover({d / "missing"}), InputError);
    fs::create_directories(d / "empty");
    EXPECT_THROW(batch::discover({d / "empty"}), UsageError);
    EXPECT_EQ(batch::discover({d / "a/song.wav", d / "a"}).size(), 1u); // the same file twice
    EXPECT_THROW(batch::parseShard("4/4"), UsageError);
    EXPECT_THROW(batch::parseShard("1-4"), UsageError);
    EXPECT_THROW(batch::parseShard("-1/4"), UsageError);
    EXPECT_EQ(batch::parseShard("3/4").index, 3);
}

TEST(Batch, ShardsArePartitionsForEveryCount) {
    std::vector<batch::Item> items;
    for (int k = 0; k < 37; ++k) {
        std::string name = "f"; // appended, not "f" + …: GCC 12's false -Wrestrict (PR 105329)
        name += std::to_string(k);
        items.push_back({fs::path(name + ".wav"), fs::path(name)});
    }
    for (int n = 1; n <= 16; ++n) {
        std::map<std::string, int> seen;
        std::size_t largest = 0;
        std::size_t smallest = items.size();
        for (int i = 0; i < n; ++i) {
            const auto mine = batch::select(items, {i, n});
            largest = std::max(largest, mine.size());
            smallest = std::min(smallest, mine.size());
            for (const auto& it : mine) {
                ++seen[it.relative.string()];
            }
        }
        ASSERT_EQ(seen.size(), items.size()) << n << " shards";
        for (const auto& [name, count] : seen) {
            ASSERT_EQ(count, 1) << name << " with " << n << " shards";
        }
        EXPECT_LE(largest - smallest, 1u) << "balanced, " << n << " shards";
    }
}

TEST(Batch, Sha256MatchesThePublishedVectors) {
    // FIPS 180-2 examples.
    EXPECT_EQ(batch::sha256OfText("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(batch::sha256OfText(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    TempDir d;
    std::ofstream(d / "abc.bin", std::ios::binary) << "abc";
    EXPECT_EQ(batch::sha256OfFile(d / "abc.bin"), batch::sha256OfText("abc"));
}

TEST(Batch, AManifestLineCutByACrashIsIgnoredAndTheLastLinePerInputWins) {
    TempDir d;
    std::ofstream(d / "manifest.jsonl")
        << R"({"input":"/a.wav","status":"failed","finished_utc":"2026-01-01T00:00:00Z"})"
        << "\n"
        << R"({"input":"/a.wav","status":"done","finished_utc":"2026-01-01T00:01:00Z"})"
        << "\n"
        << R"({"input":"/b.wav","sta)";
    std::ofstream(d / "manifest.shard-1-of-2.jsonl")
        << R"({"input":"/c.wav","status":"done","finished_utc":"2026-01-01T00:00:00Z"})"
        << "\n";
    const auto entries = batch::readManifests(d.path());
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0]["input"], "/a.wav");
    EXPECT_EQ(entries[0]["status"], "done");
    EXPECT_EQ(entries[1]["input"], "/c.wav");
}

} // namespace
} // namespace lathe
