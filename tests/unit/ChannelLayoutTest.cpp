// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/ChannelLayout.h>
#include <lathe/Error.h>

#include <gtest/gtest.h>

namespace lathe {
namespace {

TEST(ChannelLayout, ConventionOnlyForMonoAndStereo) {
    EXPECT_EQ(ChannelLayout::fromConvention(1).name(), "mono");
    EXPECT_EQ(ChannelLayout::fromConvention(2).name(), "stereo");
    const ChannelLayout six = ChannelLayout::fromConvention(6);
    EXPECT_FALSE(six.known()); // never guess 5.1 from a count
    EXPECT_EQ(six.name(), "unknown (6 channels)");
}

TEST(ChannelLayout, ParsesNamesAndLabels) {
    const ChannelLayout a = parseChannelLayout("5.1");
    ASSERT_EQ(a.channels(), 6);
    EXPECT_EQ(a.speakers[3], Speaker::LowFrequency);
    EXPECT_TRUE(a.hasLfe());
    const ChannelLayout b = parseChannelLayout("L R C LFE Ls Rs");
    EXPECT_EQ(b.speakers, a.speakers);
    EXPECT_EQ(b.name(), "5.1");
    const ChannelLayout c = parseChannelLayout("L,R,LFE,C");
    EXPECT_EQ(c.name(), "L R LFE C");
    EXPECT_EQ(parseChannelLayout("7.1.4").channels(), 12);
    EXPECT_THROW(parseChannelLayout("L R Q"), UsageError);
    EXPECT_THROW(parseChannelLayout(""), UsageError);
}

} // namespace
} // namespace lathe
