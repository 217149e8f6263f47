// Lathe: channel layouts (which loudspeaker each channel feeds).
// SPDX-License-Identifier: GPL-3.0-or-later
//
// A layout is known only from the file itself (WAVE_FORMAT_EXTENSIBLE channel mask, CAF/AIFF
// channel map, FLAC's standard assignment as reported by libsndfile) or, for one and two channels,
// from the universal convention (mono; left, right). Lathe never guesses a multichannel layout
// from the channel count: with no mask a 6-channel file is "unknown" until the user states it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lathe {

enum class Speaker {
    Unknown,
    Mono,
    FrontLeft,
    FrontRight,
    FrontCenter,
    LowFrequency,
    BackLeft,
    BackRight,
    FrontLeftOfCenter,
    FrontRightOfCenter,
    BackCenter,
    SideLeft,
    SideRight,
    TopCenter,
    TopFrontLeft,
    TopFrontCenter,
    TopFrontRight,
    TopBackLeft,
    TopBackCenter,
    TopBackRight,
};

/// Short label used in text and JSON output: "L", "R", "C", "LFE", "Ls", … ("?" for Unknown).
std::string_view speakerLabel(Speaker s);

/// How the layout was established.
enum class LayoutSource {
    File,       ///< read from the file's channel mask / channel map
    Convention, ///< mono or stereo without a mask: the universal convention
    Unknown,    ///< no information; channels are only numbered
};

struct ChannelLayout {
    std::vector<Speaker> speakers; ///< one entry per channel, in file order
    LayoutSource source = LayoutSource::Unknown;

    int channels() const { return static_cast<int>(speakers.size()); }
    bool known() const { return source != LayoutSource::Unknown; }
    /// True if some channel is the LFE channel.
    bool hasLfe() const;
    /// "mono", "stereo", "5.1", "7.1", … for the common layouts, else the labels joined by spaces
    /// ("L R C LFE Ls Rs"); "unknown (N channels)" when the layout is not known.
    std::string name() const;

    /// The layout for `channels` channels with no file information: mono / stereo by convention,
    /// otherwise Unknown.
    static ChannelLayout fromConvention(int channels);
};

/// Parses a user-supplied layout: a name ("mono", "stereo", "5.0", "5.1", "7.1", "7.1.4") or
/// space/comma-separated labels ("L R C LFE Ls Rs"). Throws UsageError naming the bad token.
ChannelLayout parseChannelLayout(std::string_view text);

} // namespace lathe
