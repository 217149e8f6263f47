// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/AudioFormat.h>
#include <lathe/Error.h>
#include <lathe/Text.h>

namespace lathe {

std::string_view containerName(Container c) {
    switch (c) {
    case Container::Wav:
        return "wav";
    case Container::Rf64:
        return "rf64";
    case Container::W64:
        return "w64";
    case Container::Aiff:
        return "aiff";
    case Container::Flac:
        return "flac";
    case Container::Ogg:
        return "ogg";
    case Container::Mp3:
        return "mp3";
    case Container::Caf:
        return "caf";
    case Container::Other:
        return "other";
    }
    return "other";
}

std::string_view encodingName(Encoding e) {
    switch (e) {
    case Encoding::PcmU8:
        return "pcm_u8";
    case Encoding::PcmS8:
        return "pcm_s8";
    case Encoding::Pcm16:
        return "pcm16";
    case Encoding::Pcm24:
        return "pcm24";
    case Encoding::Pcm32:
        return "pcm32";
    case Encoding::Float32:
        return "float32";
    case Encoding::Float64:
        return "float64";
    case Encoding::Vorbis:
        return "vorbis";
    case Encoding::Opus:
        return "opus";
    case Encoding::Mp3:
        return "mp3";
    case Encoding::Other:
        return "other";
    }
    return "other";
}

int integerBits(Encoding e) {
    switch (e) {
    case Encoding::PcmU8:
    case Encoding::PcmS8:
        return 8;
    case Encoding::Pcm16:
        return 16;
    case Encoding::Pcm24:
        return 24;
    case Encoding::Pcm32:
        return 32;
    default:
        return 0;
    }
}

std::string_view sampleFormatName(SampleFormat f) {
    switch (f) {
    case SampleFormat::Pcm16:
        return "16";
    case SampleFormat::Pcm24:
        return "24";
    case SampleFormat::Float32:
        return "32f";
    }
    return "?";
}

int sampleFormatBits(SampleFormat f) {
    switch (f) {
    case SampleFormat::Pcm16:
        return 16;
    case SampleFormat::Pcm24:
        return 24;
    case SampleFormat::Float32:
        return 32;
    }
    return 0;
}

int sampleFormatBytes(SampleFormat f) {
    return sampleFormatBits(f) / 8;
}

bool isInteger(SampleFormat f) {
    return f != SampleFormat::Float32;
}

SampleFormat parseSampleFormat(std::string_view text) {
    const std::string t = toLower(text);
    if (t == "16") {
        return SampleFormat::Pcm16;
    }
    if (t == "24") {
        return SampleFormat::Pcm24;
    }
    if (t == "32f" || t == "float" || t == "f32") {
        return SampleFormat::Float32;
    }
    throw UsageError("unsupported output sample format '" + std::string(text) + "' (use 16, 24 or 32f)");
}

Container parseOutputContainer(std::string_view text) {
    const std::string t = toLower(text);
    if (t == "wav" || t == "wave") {
        return Container::Wav;
    }
    if (t == "rf64") {
        return Container::Rf64;
    }
    if (t == "aiff" || t == "aif") {
        return Container::Aiff;
    }
    if (t == "flac") {
        return Container::Flac;
    }
    throw UsageError("unsupported output format '" + std::string(text) + "' (use wav, rf64, flac or aiff)");
}

std::optional<Container> containerForExtension(const std::filesystem::path& path) {
    const std::string ext = toLower(path.extension().string());
    if (ext == ".wav" || ext == ".wave") {
        return Container::Wav;
    }
    if (ext == ".rf64") {
        return Container::Rf64;
    }
    if (ext == ".aif" || ext == ".aiff") {
        return Container::Aiff;
    }
    if (ext == ".flac") {
        return Container::Flac;
    }
    return std::nullopt;
}

} // namespace lathe
