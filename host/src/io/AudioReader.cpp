// SPDX-License-Identifier: GPL-3.0-or-later
#include "SndfileFormat.h"

#include <lathe/AudioReader.h>
#include <lathe/Error.h>

#include <sndfile.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace lathe {
namespace {

struct SndfileCloser {
    void operator()(SNDFILE* f) const noexcept {
        if (f != nullptr) {
            sf_close(f);
        }
    }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

const char* kSupportedFormats = "WAV, RF64, W64, AIFF, CAF, FLAC, Ogg Vorbis/Opus, MP3";

/// What libsndfile's parse log says about a data chunk whose size disagrees with the file.
struct LoggedChunkSize {
    bool found = false;
    std::uint64_t declaredBytes = 0;
    std::uint64_t presentBytes = 0;
};

// libsndfile opens a truncated WAV/AIFF without an error and only logs "data : 19200 (should be
// 1000)" (see ../shared/reference/bad-input.md). That log line is the only place the declared size
// survives, so parse it.
LoggedChunkSize parseDataChunkLog(const std::string& log) {
    LoggedChunkSize out;
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
        const bool dataLine = line.rfind("data", 0) == 0 || line.rfind("SSND", 0) == 0;
        const auto should = line.find("(should be ");
        const auto colon = line.find(':');
        if (!dataLine || should == std::string::npos || colon == std::string::npos) {
            continue;
        }
        try {
            out.declaredBytes = std::stoull(line.substr(colon + 1));
            out.presentBytes = std::stoull(line.substr(should + 11));
            out.found = true;
        } catch (const std::exception&) {
            // A line we do not understand is not evidence of truncation.
        }
    }
    return out;
}

int bytesPerFrame(Encoding e, int channels) {
    const int bits = integerBits(e);
    if (bits > 0) {
        return bits / 8 * channels;
    }
    if (e == Encoding::Float32) {
        return 4 * channels;
    }
    if (e == Encoding::Float64) {
        return 8 * channels;
    }
    return 0;
}

} // namespace

struct AudioReader::Impl {
    AudioFileInfo info;
    Options options;
    SndfilePtr file;
    bool seekable = false;
    Frames position = 0;
    std::vector<float> interleaved;
};

AudioReader::AudioReader(const std::filesystem::path& path) : AudioReader(path, Options{}) {}

AudioReader::AudioReader(const std::filesystem::path& path, const Options& options)
    : m_impl(std::make_unique<Impl>()) {
    Impl& d = *m_impl;
    d.options = options;
    d.info.path = path;

    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        throw InputError(path, "no such file");
    }
    if (std::filesystem::is_directory(status)) {
        throw InputError(path, "is a directory, not an audio file");
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size == 0) {
        throw InputError(path, "file is empty (0 bytes)");
    }

    SF_INFO sfinfo;
    std::memset(&sfinfo, 0, sizeof sfinfo);
    errno = 0;
    d.file.reset(sf_open(path.c_str(), SFM_READ, &sfinfo));
    if (!d.file) {
        const int openErrno = errno;
        std::string cause = sf_strerror(nullptr);
        if (openErrno == EACCES || openErrno == EPERM) {
            throw InputError(path, std::string("cannot open: ") + std::strerror(openErrno));
        }
        while (!cause.empty() && (cause.back() == '.' || cause.back() == ' ')) {
            cause.pop_back();
        }
        throw InputError(path, "not a readable audio file (" + cause +
                                   "); supported formats: " + kSupportedFormats);
    }

    AudioFileInfo& info = d.info;
    info.container = io::containerFromSndfile(sfinfo.format);
    info.encoding = io::encodingFromSndfile(sfinfo.format);
    info.formatDescription = io::sndfileMajorName(sfinfo.format);
    info.sampleRate = sfinfo.samplerate;
    info.channels = sfinfo.channels;
    info.frames = sfinfo.frames;
    d.seekable = sfinfo.seekable != 0;

    if (sfinfo.channels <= 0) {
        throw InputError(path, "has no channels");
    }
    if (sfinfo.channels > kMaxChannels) {
        throw InputError(path, "has " + std::to_string(sfinfo.channels) +
                                   " channels; Lathe supports at most " + std::to_string(kMaxChannels));
    }
    if (sfinfo.samplerate < kMinSampleRate || sfinfo.samplerate > kMaxSampleRate) {
        throw InputError(path, "sample rate " + std::to_string(sfinfo.samplerate) +
                                   " Hz is outside the supported range " + std::to_string(kMinSampleRate) +
                                   "–" + std::to_string(kMaxSampleRate) + " Hz");
    }
    if (sfinfo.frames < 0) {
        throw InputError(path, "reports a negative length");
    }

    // Channel layout: the file's own mask/map, never a guess from the channel count.
    std::vector<int> map(static_cast<std::size_t>(sfinfo.channels), 0);
    if (sf_command(d.file.get(), SFC_GET_CHANNEL_MAP_INFO, map.data(),
                   static_cast<int>(map.size() * sizeof(int))) == SF_TRUE) {
        info.layout.source = LayoutSource::File;
        for (int m : map) {
            info.layout.speakers.push_back(io::speakerFromSndfile(m));
        }
    } else {
        info.layout = ChannelLayout::fromConvention(sfinfo.channels);
    }
    if (options.layout) {
        if (options.layout->channels() != sfinfo.channels) {
            throw UsageError("layout '" + options.layout->name() + "' has " +
                             std::to_string(options.layout->channels()) + " channels but " + path.string() +
                             " has " + std::to_string(sfinfo.channels));
        }
        info.layout = *options.layout;
    }

    // Truncation: the declared data size is only in the parse log.
    std::string log(16384, '\0');
    sf_command(d.file.get(), SFC_GET_LOG_INFO, log.data(), static_cast<int>(log.size()));
    log.resize(std::strlen(log.c_str()));
    const LoggedChunkSize chunk = parseDataChunkLog(log);
    const int frameBytes = bytesPerFrame(info.encoding, info.channels);
    if (chunk.found && frameBytes > 0 && chunk.declaredBytes > chunk.presentBytes) {
        const bool streamedMarker = chunk.declaredBytes == 0xffffffffull ||
                                    chunk.declaredBytes == 0x7ffff000ull ||
                                    chunk.declaredBytes == 0x7ffffff0ull;
        if (streamedMarker) {
            info.warnings.push_back("header gives no real length (streamed file); read " +
                                    std::to_string(info.frames) + " frames to the end of the file");
        } else {
            info.truncated = true;
            info.declaredFrames =
                static_cast<Frames>(chunk.declaredBytes / static_cast<std::uint64_t>(frameBytes));
            const std::string what = "truncated: " + std::to_string(info.frames) + " of " +
                                     std::to_string(info.declaredFrames) + " frames present";
            if (options.strict) {
                throw InputError(path, what);
            }
            info.warnings.push_back(what);
        }
    }
    if (info.frames == 0) {
        info.warnings.push_back("no audio (0 frames)");
    }
    if (info.layout.source == LayoutSource::Unknown) {
        info.warnings.push_back("no channel layout in the file for " + std::to_string(info.channels) +
                                " channels; pass --layout to state it");
    }
}

AudioReader::~AudioReader() = default;

const AudioFileInfo& AudioReader::info() const noexcept {
    return m_impl->info;
}

Frames AudioReader::read(AudioBuffer& dst, Frames maxFrames) {
    Impl& d = *m_impl;
    const int channels = d.info.channels;
    dst.reset(channels, maxFrames);
    if (maxFrames <= 0) {
        return 0;
    }
    d.interleaved.resize(static_cast<std::size_t>(maxFrames) * static_cast<std::size_t>(channels));
    Frames got = 0;
    while (got < maxFrames) {
        const sf_count_t n =
            sf_readf_float(d.file.get(), d.interleaved.data() + got * channels, maxFrames - got);
        if (n <= 0) {
            break;
        }
        got += n;
    }
    const int err = sf_error(d.file.get());
    if (err != SF_ERR_NO_ERROR) {
        throw InputError(d.info.path, "decoding failed at frame " + std::to_string(d.position + got) +
                                          " of " + std::to_string(d.info.frames) + ": " +
                                          sf_strerror(d.file.get()));
    }
    dst.setFrames(got);
    deinterleave(d.interleaved.data(), got, dst, 0);
    d.position += got;
    if (got < maxFrames && d.position < d.info.frames) {
        const std::string what = "ended early: " + std::to_string(d.position) + " of " +
                                 std::to_string(d.info.frames) + " frames could be decoded";
        // FLAC and PCM containers state their length exactly (libsndfile already clamps a short
        // PCM data chunk to what is present), so stopping early there means a corrupt or cut file.
        // Ogg and MP3 lengths can be estimates: a warning, unless strict.
        const bool exactLength = d.info.container != Container::Ogg && d.info.container != Container::Mp3;
        if (exactLength) {
            throw InputError(d.info.path, "decoding failed at frame " + std::to_string(d.position) +
                                              ": the file is truncated or corrupt (" + what + ")");
        }
        if (d.options.strict) {
            throw InputError(d.info.path, what);
        }
        d.info.warnings.push_back(what);
        d.info.frames = d.position;
    }
    return got;
}

Frames AudioReader::position() const noexcept {
    return m_impl->position;
}

void AudioReader::seek(Frames frame) {
    Impl& d = *m_impl;
    if (!d.seekable) {
        throw InputError(d.info.path, "is not seekable");
    }
    if (frame < 0 || frame > d.info.frames) {
        throw InputError(d.info.path, "seek to frame " + std::to_string(frame) + " outside 0–" +
                                          std::to_string(d.info.frames));
    }
    if (sf_seek(d.file.get(), frame, SEEK_SET) < 0) {
        throw InputError(d.info.path, std::string("seek failed: ") + sf_strerror(d.file.get()));
    }
    d.position = frame;
}

std::string AudioReader::sourceName() const {
    return m_impl->info.path.string();
}
SampleRate AudioReader::sampleRate() const {
    return m_impl->info.sampleRate;
}
int AudioReader::channelCount() const {
    return m_impl->info.channels;
}
ChannelLayout AudioReader::channelLayout() const {
    return m_impl->info.layout;
}
Frames AudioReader::totalFrames() const {
    return m_impl->info.frames;
}
int AudioReader::integerBits() const {
    return lathe::integerBits(m_impl->info.encoding);
}

} // namespace lathe
