// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/AudioBuffer.h>

#include <gtest/gtest.h>

namespace lathe {
namespace {

AudioBuffer ramp(int channels, Frames frames) {
    AudioBuffer b(channels, frames);
    b.setFrames(frames);
    for (int c = 0; c < channels; ++c) {
        for (Frames i = 0; i < frames; ++i) {
            b.channel(c)[i] = static_cast<float>(c * 1000 + i);
        }
    }
    return b;
}

TEST(AudioBuffer, GrowKeepsContentPerChannel) {
    AudioBuffer b = ramp(3, 10);
    b.setFrames(1000); // forces a re-layout
    for (int c = 0; c < 3; ++c) {
        for (Frames i = 0; i < 10; ++i) {
            ASSERT_EQ(b.channel(c)[i], static_cast<float>(c * 1000 + i));
        }
    }
}

TEST(AudioBuffer, AppendAndDropFront) {
    AudioBuffer a = ramp(2, 5);
    AudioBuffer b;
    b.reset(2, 0);
    b.append(a, 1, 3);
    b.append(a, 0, 2);
    ASSERT_EQ(b.frames(), 5);
    EXPECT_EQ(b.channel(1)[0], 1001.0f);
    EXPECT_EQ(b.channel(1)[3], 1000.0f);
    b.dropFront(2);
    ASSERT_EQ(b.frames(), 3);
    EXPECT_EQ(b.channel(0)[0], 3.0f);
    EXPECT_EQ(b.channel(0)[2], 1.0f);
}

TEST(AudioBuffer, InterleaveRoundTripsForOddChannelCounts) {
    for (int channels : {1, 2, 3, 6, 8}) {
        const AudioBuffer a = ramp(channels, 17);
        std::vector<float> inter(17 * static_cast<std::size_t>(channels));
        interleave(a, 0, 17, inter.data());
        EXPECT_EQ(inter[static_cast<std::size_t>(channels)], 1.0f); // frame 1, channel 0
        AudioBuffer back(channels, 17);
        back.setFrames(17);
        deinterleave(inter.data(), 17, back, 0);
        for (int c = 0; c < channels; ++c) {
            for (Frames i = 0; i < 17; ++i) {
                ASSERT_EQ(back.channel(c)[i], a.channel(c)[i]);
            }
        }
    }
}

} // namespace
} // namespace lathe
