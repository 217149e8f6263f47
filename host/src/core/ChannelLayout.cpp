// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/ChannelLayout.h>
#include <lathe/Error.h>
#include <lathe/Text.h>

#include <algorithm>
#include <array>
#include <utility>

namespace lathe {
namespace {

struct SpeakerName {
    Speaker speaker;
    std::string_view label;
};

// Labels follow the usual mastering/broadcast abbreviations (ITU-R BS.2051 style names in
// parentheses where they differ). "Ls/Rs" are the back (surround) pair of 5.1 as WAVE masks
// describe it; "Lss/Rss" the side pair of 7.1.
constexpr std::array<SpeakerName, 20> kSpeakerNames{{
    {Speaker::Unknown, "?"},
    {Speaker::Mono, "M"},
    {Speaker::FrontLeft, "L"},
    {Speaker::FrontRight, "R"},
    {Speaker::FrontCenter, "C"},
    {Speaker::LowFrequency, "LFE"},
    {Speaker::BackLeft, "Ls"},
    {Speaker::BackRight, "Rs"},
    {Speaker::FrontLeftOfCenter, "Lc"},
    {Speaker::FrontRightOfCenter, "Rc"},
    {Speaker::BackCenter, "Cs"},
    {Speaker::SideLeft, "Lss"},
    {Speaker::SideRight, "Rss"},
    {Speaker::TopCenter, "Tc"},
    {Speaker::TopFrontLeft, "Tfl"},
    {Speaker::TopFrontCenter, "Tfc"},
    {Speaker::TopFrontRight, "Tfr"},
    {Speaker::TopBackLeft, "Tbl"},
    {Speaker::TopBackCenter, "Tbc"},
    {Speaker::TopBackRight, "Tbr"},
}};

using S = Speaker;

struct NamedLayout {
    std::string_view name;
    std::vector<Speaker> speakers;
};

const std::vector<NamedLayout>& namedLayouts() {
    static const std::vector<NamedLayout> layouts{
        {"mono", {S::Mono}},
        {"stereo", {S::FrontLeft, S::FrontRight}},
        {"3.0", {S::FrontLeft, S::FrontRight, S::FrontCenter}},
        {"quad", {S::FrontLeft, S::FrontRight, S::BackLeft, S::BackRight}},
        {"5.0", {S::FrontLeft, S::FrontRight, S::FrontCenter, S::BackLeft, S::BackRight}},
        {"5.1", {S::FrontLeft, S::FrontRight, S::FrontCenter, S::LowFrequency, S::BackLeft, S::BackRight}},
        {"5.1(side)",
         {S::FrontLeft, S::FrontRight, S::FrontCenter, S::LowFrequency, S::SideLeft, S::SideRight}},
        {"7.1",
         {S::FrontLeft, S::FrontRight, S::FrontCenter, S::LowFrequency, S::BackLeft, S::BackRight,
          S::SideLeft, S::SideRight}},
        {"7.1.4",
         {S::FrontLeft, S::FrontRight, S::FrontCenter, S::LowFrequency, S::BackLeft, S::BackRight,
          S::SideLeft, S::SideRight, S::TopFrontLeft, S::TopFrontRight, S::TopBackLeft, S::TopBackRight}},
    };
    return layouts;
}

} // namespace

std::string_view speakerLabel(Speaker s) {
    for (const auto& n : kSpeakerNames) {
        if (n.speaker == s) {
            return n.label;
        }
    }
    return "?";
}

bool ChannelLayout::hasLfe() const {
    return std::find(speakers.begin(), speakers.end(), Speaker::LowFrequency) != speakers.end();
}

std::string ChannelLayout::name() const {
    if (!known()) {
        return "unknown (" + std::to_string(speakers.size()) + " channels)";
    }
    for (const auto& l : namedLayouts()) {
        if (l.speakers == speakers) {
            return std::string(l.name);
        }
    }
    std::string out;
    for (Speaker s : speakers) {
        if (!out.empty()) {
            out += ' ';
        }
        out += speakerLabel(s);
    }
    return out;
}

ChannelLayout ChannelLayout::fromConvention(int channels) {
    ChannelLayout layout;
    if (channels == 1) {
        layout.speakers = {Speaker::Mono};
        layout.source = LayoutSource::Convention;
    } else if (channels == 2) {
        layout.speakers = {Speaker::FrontLeft, Speaker::FrontRight};
        layout.source = LayoutSource::Convention;
    } else {
        layout.speakers.assign(static_cast<std::size_t>(std::max(channels, 0)), Speaker::Unknown);
        layout.source = LayoutSource::Unknown;
    }
    return layout;
}

ChannelLayout parseChannelLayout(std::string_view text) {
    const std::string wanted = toLower(text);
    for (const auto& l : namedLayouts()) {
        if (wanted == l.name) {
            return ChannelLayout{l.speakers, LayoutSource::File};
        }
    }
    ChannelLayout layout;
    layout.source = LayoutSource::File;
    std::string token;
    auto flush = [&] {
        if (token.empty()) {
            return;
        }
        const auto it =
            std::find_if(kSpeakerNames.begin() + 1, kSpeakerNames.end(),
                         [&](const SpeakerName& n) { return toLower(n.label) == toLower(token); });
        if (it == kSpeakerNames.end()) {
            throw UsageError("unknown channel label '" + token +
                             "' in layout (use mono, stereo, 5.0, 5.1, 7.1, 7.1.4 or labels such as "
                             "\"L R C LFE Ls Rs\")");
        }
        layout.speakers.push_back(it->speaker);
        token.clear();
    };
    for (char ch : text) {
        if (ch == ' ' || ch == ',') {
            flush();
        } else {
            token += ch;
        }
    }
    flush();
    if (layout.speakers.empty()) {
        throw UsageError("empty channel layout");
    }
    return layout;
}

} // namespace lathe
