// SPDX-License-Identifier: GPL-3.0-or-later
// A render's output held in memory (the targeting's intermediate when it fits): read back from the
// start as often as asked, it is the samples the render produced, bit for bit, in whatever sizes a
// reader asks for; every block also reaches the tap it passes on to; reading before the render
// finished, or a block beyond the announced length, is refused. The memory budget's limits: the
// process's memory cgroup (v1 and v2) read from made-up trees.
#include "../../host/src/chain/HeldAudio.h"

#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/Error.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <new>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace lathe {
namespace {

using test::Planar;

/// An OutputTap that keeps what it sees and counts its calls.
class KeepingTap final : public OutputTap {
public:
    void begin(SampleRate r, int channels, const ChannelLayout& l, Frames length) override {
        rate = r;
        layout = l;
        announced = length;
        seen.assign(static_cast<std::size_t>(channels), {});
    }
    void write(const AudioBuffer& block) override {
        for (int c = 0; c < block.channels(); ++c) {
            auto& ch = seen[static_cast<std::size_t>(c)];
            ch.insert(ch.end(), block.channel(c), block.channel(c) + block.frames());
        }
    }
    void finish() override { finished = true; }

    SampleRate rate = 0;
    ChannelLayout layout;
    Frames announced = -1;
    Planar seen;
    bool finished = false;
};

/// Everything `source` delivers, read `step` frames at a time.
Planar readAll(AudioSource& source, Frames step) {
    Planar out(static_cast<std::size_t>(source.channelCount()));
    AudioBuffer block;
    while (source.read(block, step) > 0) {
        EXPECT_TRUE(block.frames() == step || out[0].size() + static_cast<std::size_t>(block.frames()) ==
                                                  static_cast<std::size_t>(source.totalFrames()))
            << "a short read before the end";
        for (int c = 0; c < block.channels(); ++c) {
            out[static_cast<std::size_t>(c)].insert(out[static_cast<std::size_t>(c)].end(), block.channel(c),
                                                    block.channel(c) + block.frames());
        }
    }
    return out;
}

TEST(HeldAudio, ReadsBackWhatWasWrittenAndPassesItOn) {
    constexpr Frames kFrames = 100003;
    const ChannelLayout layout = parseChannelLayout("5.1");
    Planar x;
    for (int c = 0; c < 6; ++c) {
        x.push_back(test::noise(kFrames, 1.5, 40 + static_cast<std::uint64_t>(c))); // above full scale too
    }
    KeepingTap next;
    detail::HeldAudio held("held", 6, kFrames - 5000, &next); // a longer render than expected
    held.begin(96000, 6, layout, kFrames);
    AudioBuffer block;
    for (Frames at = 0; at < kFrames;) { // blocks of uneven sizes, as a render's tail gives
        const Frames n = std::min<Frames>(at == 0 ? 1 : 7919 + at % 5, kFrames - at);
        block.reset(6, n);
        block.setFrames(n);
        for (int c = 0; c < 6; ++c) {
            std::copy_n(x[static_cast<std::size_t>(c)].begin() + at, n, block.channel(c));
        }
        held.write(block);
        at += n;
    }
    EXPECT_THROW(held.source(), Error); // not finished
    held.finish();
    EXPECT_TRUE(next.finished);
    EXPECT_EQ(next.seen, x);
    EXPECT_EQ(next.announced, kFrames);
    EXPECT_EQ(held.bytes(), detail::floatBytes(kFrames, 6));
    EXPECT_EQ(held.bytes(), std::uint64_t{kFrames} * 6 * 4);
    for (const Frames step : {Frames{1}, Frames{4096}, Frames{65536}, kFrames, kFrames + 1}) {
        const auto source = held.source();
        EXPECT_EQ(source->sampleRate(), 96000);
        EXPECT_EQ(source->channelCount(), 6);
        EXPECT_EQ(source->channelLayout().speakers, layout.speakers);
        EXPECT_EQ(source->channelLayout().source, layout.source);
        EXPECT_EQ(source->totalFrames(), kFrames);
        EXPECT_EQ(source->integerBits(), 0);
        if (step == 1) { // a frame at a time: the start is enough
            AudioBuffer one;
            for (Frames i = 0; i < 3; ++i) {
                ASSERT_EQ(source->read(one, 1), 1);
                EXPECT_EQ(one.channel(5)[0], x[5][static_cast<std::size_t>(i)]);
            }
            continue;
        }
        EXPECT_EQ(readAll(*source, step), x) << step;
        AudioBuffer after;
        EXPECT_EQ(source->read(after, step), 0); // the end stays the end
    }
}

TEST(HeldAudio, RefusesMoreThanItWasAnnounced) {
    detail::HeldAudio held("held", 1, 10);
    EXPECT_THROW(held.begin(48000, 2, ChannelLayout{}, 10), Error); // not the channels it was made for
    held.begin(48000, 1, ChannelLayout{}, 10);
    AudioBuffer block(1, 11);
    block.setFrames(11);
    EXPECT_THROW(held.write(block), Error);
    block.setFrames(4);
    held.write(block);
    EXPECT_THROW(held.finish(), Error); // 4 of 10 frames
    // More than an address space holds is refused before any render (the master then uses a file).
    EXPECT_THROW(detail::HeldAudio("huge", 2, Frames{1} << 60), std::bad_alloc);
}

/// Writes `text` to `file`, making its folders.
void put(const std::filesystem::path& file, const std::string& text) {
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

// The room a memory cgroup leaves, read from a made-up /proc/self/cgroup and cgroup mount: on v2
// the tightest of the cgroup's and its ancestors' limits less their usage ("max" is no limit); on
// v1 the cgroup's own folder or, in a container, the mount's root (about 2^63 is no limit).
TEST(HeldAudio, MemoryCgroupLimitsAreFound) {
    test::TempDir dir;
    const auto self = dir.path() / "self";
    const auto root = dir.path() / "cgroup";
    put(self, "0::/job/step/task\n");
    put(root / "job/memory.max", "1000\n");
    put(root / "job/memory.current", "300\n");
    put(root / "job/step/memory.max", "max\n");
    put(root / "job/step/memory.current", "200\n");
    put(root / "job/step/task/memory.max", "max\n");
    put(root / "job/step/task/memory.current", "100\n");
    EXPECT_EQ(detail::cgroupRoom(self, root), std::optional<std::uint64_t>{700}); // the job's
    put(root / "job/step/task/memory.max", "500\n");
    EXPECT_EQ(detail::cgroupRoom(self, root), std::optional<std::uint64_t>{400}); // the task's
    put(root / "job/memory.max", "max\n");
    put(root / "job/step/task/memory.max", "max\n");
    EXPECT_EQ(detail::cgroupRoom(self, root), std::nullopt);
    // v1 in a container: its cgroup's path is not mounted; the mount's root is its own.
    put(self, "5:cpu:/docker/abc\n4:memory:/docker/abc\n0::/\n");
    put(root / "memory/memory.limit_in_bytes", "9223372036854771712\n");
    put(root / "memory/memory.usage_in_bytes", "500\n");
    EXPECT_EQ(detail::cgroupRoom(self, root), std::nullopt);
    put(root / "memory/memory.limit_in_bytes", "2000\n");
    EXPECT_EQ(detail::cgroupRoom(self, root), std::optional<std::uint64_t>{1500});
    // v1 with the cgroup's own folder mounted: that one.
    put(root / "memory/docker/abc/memory.limit_in_bytes", "800\n");
    put(root / "memory/docker/abc/memory.usage_in_bytes", "600\n");
    EXPECT_EQ(detail::cgroupRoom(self, root), std::optional<std::uint64_t>{200});
    // Usage above the limit (the page cache counted) leaves nothing; no file, no limit.
    put(root / "memory/docker/abc/memory.usage_in_bytes", "900\n");
    EXPECT_EQ(detail::cgroupRoom(self, root), std::optional<std::uint64_t>{0});
    EXPECT_EQ(detail::cgroupRoom(dir.path() / "missing", root), std::nullopt);
    // This machine's figure: something, and no more than its physical memory.
    const std::uint64_t physical = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                   static_cast<std::uint64_t>(::sysconf(_SC_PAGE_SIZE));
    EXPECT_GT(detail::availableMemoryBytes(), 0u);
    EXPECT_LE(detail::availableMemoryBytes(), physical);
}

} // namespace
} // namespace lathe
