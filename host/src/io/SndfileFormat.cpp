// SPDX-License-Identifier: GPL-3.0-or-later
#include "SndfileFormat.h"

#include <cstring>
#include <string>

namespace lathe::io {

Container containerFromSndfile(int format) {
    switch (format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
        return Container::Wav;
    case SF_FORMAT_RF64:
        return Container::Rf64;
    case SF_FORMAT_W64:
        return Container::W64;
    case SF_FORMAT_AIFF:
        return Container::Aiff;
    case SF_FORMAT_FLAC:
        return Container::Flac;
    case SF_FORMAT_OGG:
        return Container::Ogg;
    case SF_FORMAT_MPEG:
        return Container::Mp3;
    case SF_FORMAT_CAF:
        return Container::Caf;
    default:
        return Container::Other;
    }
}

Encoding encodingFromSndfile(int format) {
    switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_U8:
        return Encoding::PcmU8;
    case SF_FORMAT_PCM_S8:
        return Encoding::PcmS8;
    case SF_FORMAT_PCM_16:
        return Encoding::Pcm16;
    case SF_FORMAT_PCM_24:
        return Encoding::Pcm24;
    case SF_FORMAT_PCM_32:
        return Encoding::Pcm32;
    case SF_FORMAT_FLOAT:
        return Encoding::Float32;
    case SF_FORMAT_DOUBLE:
        return Encoding::Float64;
    case SF_FORMAT_VORBIS:
        return Encoding::Vorbis;
    case SF_FORMAT_OPUS:
        return Encoding::Opus;
    case SF_FORMAT_MPEG_LAYER_I:
    case SF_FORMAT_MPEG_LAYER_II:
    case SF_FORMAT_MPEG_LAYER_III:
        return Encoding::Mp3;
    default:
        return Encoding::Other;
    }
}

std::string sndfileMajorName(int format) {
    SF_FORMAT_INFO info;
    std::memset(&info, 0, sizeof info);
    info.format = format & SF_FORMAT_TYPEMASK;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof info) == 0 && info.name != nullptr) {
        return info.name;
    }
    return "unknown";
}

namespace {
struct MapEntry {
    int sndfile;
    Speaker speaker;
};
// libsndfile reports WAVE mask bits as LEFT/RIGHT/CENTER and CAF maps as FRONT_*; both mean the
// same loudspeakers. REAR_* is the WAVE "back" pair (the surrounds of 5.1).
constexpr MapEntry kMap[] = {
    {SF_CHANNEL_MAP_MONO, Speaker::Mono},
    {SF_CHANNEL_MAP_LEFT, Speaker::FrontLeft},
    {SF_CHANNEL_MAP_RIGHT, Speaker::FrontRight},
    {SF_CHANNEL_MAP_CENTER, Speaker::FrontCenter},
    {SF_CHANNEL_MAP_FRONT_LEFT, Speaker::FrontLeft},
    {SF_CHANNEL_MAP_FRONT_RIGHT, Speaker::FrontRight},
    {SF_CHANNEL_MAP_FRONT_CENTER, Speaker::FrontCenter},
    {SF_CHANNEL_MAP_REAR_CENTER, Speaker::BackCenter},
    {SF_CHANNEL_MAP_REAR_LEFT, Speaker::BackLeft},
    {SF_CHANNEL_MAP_REAR_RIGHT, Speaker::BackRight},
    {SF_CHANNEL_MAP_LFE, Speaker::LowFrequency},
    {SF_CHANNEL_MAP_FRONT_LEFT_OF_CENTER, Speaker::FrontLeftOfCenter},
    {SF_CHANNEL_MAP_FRONT_RIGHT_OF_CENTER, Speaker::FrontRightOfCenter},
    {SF_CHANNEL_MAP_SIDE_LEFT, Speaker::SideLeft},
    {SF_CHANNEL_MAP_SIDE_RIGHT, Speaker::SideRight},
    {SF_CHANNEL_MAP_TOP_CENTER, Speaker::TopCenter},
    {SF_CHANNEL_MAP_TOP_FRONT_LEFT, Speaker::TopFrontLeft},
    {SF_CHANNEL_MAP_TOP_FRONT_RIGHT, Speaker::TopFrontRight},
    {SF_CHANNEL_MAP_TOP_FRONT_CENTER, Speaker::TopFrontCenter},
    {SF_CHANNEL_MAP_TOP_REAR_LEFT, Speaker::TopBackLeft},
    {SF_CHANNEL_MAP_TOP_REAR_RIGHT, Speaker::TopBackRight},
    {SF_CHANNEL_MAP_TOP_REAR_CENTER, Speaker::TopBackCenter},
};
} // namespace

Speaker speakerFromSndfile(int map) {
    for (const auto& e : kMap) {
        if (e.sndfile == map) {
            return e.speaker;
        }
    }
    return Speaker::Unknown;
}

int speakerToSndfile(Speaker s) {
    // The WAVE writer (wavlike_gen_channel_mask) understands the LEFT/RIGHT/CENTER names, so
    // prefer the first entry of the table for each speaker.
    for (const auto& e : kMap) {
        if (e.speaker == s) {
            return e.sndfile;
        }
    }
    return SF_CHANNEL_MAP_INVALID;
}

} // namespace lathe::io
