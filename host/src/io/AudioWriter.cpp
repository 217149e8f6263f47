// SPDX-License-Identifier: GPL-3.0-or-later
#include "SndfileFormat.h"
#include "TempFile.h"

#include <lathe/AudioWriter.h>
#include <lathe/Error.h>

#include <sndfile.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace lathe {
namespace fs = std::filesystem;

WavHeader chooseWavHeader(Frames expectedFrames, int channels, int bytesPerSample) {
    if (expectedFrames < 0) {
        return WavHeader::Rf64;
    }
    const long double bytes = static_cast<long double>(expectedFrames) * channels * bytesPerSample;
    // 1 % margin: estimates (resampling) are exact to a few frames; the margin is only a guard.
    return bytes * 1.01L <= static_cast<long double>(kRiffDataLimitBytes) ? WavHeader::Riff : WavHeader::Rf64;
}

namespace {

std::string errnoText(int e) {
    return std::strerror(e);
}

/// A file descriptor with a write-back buffer, exposed to libsndfile as virtual I/O. Every system
/// call is checked; the first failure is kept in `error` and every later call fails too, so a
/// short write can never be mistaken for success (libsndfile's own sf_close returns 0 after a
/// failed write, leaving a partial file: ../shared/reference/bad-input.md).
class CheckedFile {
public:
    static constexpr std::size_t kBufferBytes = 1 << 20;
    static constexpr std::uint64_t kWritebackBytes = 8u << 20;

    CheckedFile(int fd, const WriterFaults& faults, bool writeBack)
        : m_fd(fd), m_faults(faults), m_writeBack(writeBack) {
        m_buffer.reserve(kBufferBytes);
    }

    int error() const { return m_error; }

    sf_count_t write(const void* ptr, sf_count_t count) {
        if (m_error != 0) {
            return 0;
        }
        if (!m_buffer.empty() && m_bufferStart + static_cast<sf_count_t>(m_buffer.size()) != m_position) {
            if (!flush()) {
                return 0;
            }
        }
        if (m_buffer.empty()) {
            m_bufferStart = m_position;
        }
        const auto* bytes = static_cast<const unsigned char*>(ptr);
        m_buffer.insert(m_buffer.end(), bytes, bytes + count);
        m_position += count;
        if (m_buffer.size() >= kBufferBytes && !flush()) {
            return 0;
        }
        return count;
    }

    sf_count_t read(void* ptr, sf_count_t count) {
        if (!flush()) {
            return 0;
        }
        sf_count_t done = 0;
        while (done < count) {
            const ssize_t n = ::pread(m_fd, static_cast<char*>(ptr) + done, static_cast<size_t>(count - done),
                                      m_position + done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                m_error = errno;
                break;
            }
            if (n == 0) {
                break;
            }
            done += n;
        }
        m_position += done;
        return done;
    }

    sf_count_t seek(sf_count_t offset, int whence) {
        if (!flush()) {
            return -1;
        }
        sf_count_t base = 0;
        if (whence == SEEK_CUR) {
            base = m_position;
        } else if (whence == SEEK_END) {
            base = length();
        }
        if (base + offset < 0) {
            return -1;
        }
        m_position = base + offset;
        return m_position;
    }

    sf_count_t tell() const { return m_position; }

    sf_count_t length() {
        if (!flush()) {
            return -1;
        }
        struct stat st {};
        if (::fstat(m_fd, &st) != 0) {
            m_error = errno;
            return -1;
        }
        return st.st_size;
    }

    bool flush() {
        if (m_error != 0) {
            return false;
        }
        std::size_t done = 0;
        while (done < m_buffer.size()) {
            std::size_t want = m_buffer.size() - done;
            if (m_faults.failAfterBytes) {
                const std::uint64_t limit = *m_faults.failAfterBytes;
                if (m_physicalBytes >= limit) {
                    m_error = ENOSPC;
                    return false;
                }
                want = static_cast<std::size_t>(std::min<std::uint64_t>(want, limit - m_physicalBytes));
            }
            const ssize_t n =
                ::pwrite(m_fd, m_buffer.data() + done, want, m_bufferStart + static_cast<sf_count_t>(done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                m_error = errno;
                return false;
            }
            if (n == 0) {
                m_error = ENOSPC; // a zero-byte write on a regular file means no room
                return false;
            }
            done += static_cast<std::size_t>(n);
            m_physicalBytes += static_cast<std::uint64_t>(n);
        }
        m_buffer.clear();
        startWriteback();
        return true;
    }

    /// Asks the kernel to start writing what is written so far to disk (without waiting), every
    /// kWritebackBytes: the commit's fsync then waits for the last few MiB instead of the whole
    /// file (70 ms of a 0.5 s render of 115 MB, with every thread idle). Advisory: where the file
    /// system does not support it, the fsync does it all as before.
    void startWriteback() {
        if (!m_writeBack || m_physicalBytes < m_writebackFrom + kWritebackBytes) {
            return;
        }
#if defined(__linux__)
        ::sync_file_range(m_fd, static_cast<off_t>(m_writebackFrom), 0, SYNC_FILE_RANGE_WRITE);
#endif
        m_writebackFrom = m_physicalBytes;
    }

    static SF_VIRTUAL_IO vio() {
        SF_VIRTUAL_IO v{};
        v.get_filelen = [](void* u) { return static_cast<CheckedFile*>(u)->length(); };
        v.seek = [](sf_count_t o, int w, void* u) { return static_cast<CheckedFile*>(u)->seek(o, w); };
        v.read = [](void* p, sf_count_t c, void* u) { return static_cast<CheckedFile*>(u)->read(p, c); };
        v.write = [](const void* p, sf_count_t c, void* u) {
            return static_cast<CheckedFile*>(u)->write(p, c);
        };
        v.tell = [](void* u) { return static_cast<CheckedFile*>(u)->tell(); };
        return v;
    }

private:
    int m_fd;
    WriterFaults m_faults;
    bool m_writeBack; ///< start write-back early (durable outputs)
    int m_error = 0;
    sf_count_t m_position = 0;
    sf_count_t m_bufferStart = 0;
    std::uint64_t m_physicalBytes = 0;
    std::uint64_t m_writebackFrom = 0; ///< bytes before this have been handed to writeback
    std::vector<unsigned char> m_buffer;
};

int subtypeFor(SampleFormat f) {
    switch (f) {
    case SampleFormat::Pcm16:
        return SF_FORMAT_PCM_16;
    case SampleFormat::Pcm24:
        return SF_FORMAT_PCM_24;
    case SampleFormat::Float32:
        return SF_FORMAT_FLOAT;
    }
    return 0;
}

} // namespace

struct AudioWriter::Impl {
    fs::path destination;
    OutputSpec spec;
    WriterFaults faults;
    Container effective = Container::Wav;
    std::unique_ptr<io::TempFile> temp;
    std::unique_ptr<CheckedFile> file;
    SF_VIRTUAL_IO vio{};
    SNDFILE* sf = nullptr;
    Frames written = 0;
    std::uint64_t byteLimit = 0; // 0: no limit
    bool committed = false;
    std::vector<std::string> warnings;

    [[noreturn]] void fail(const std::string& cause) { throw OutputError(destination, cause); }

    void checkIo(const char* what) {
        if (file && file->error() != 0) {
            const int e = file->error();
            fail(std::string(what) +
                 " failed: " + (e == ENOSPC ? "disk full (no space left on device)" : errnoText(e)));
        }
    }

    /// RIFF and AIFF sizes are 32-bit: refuse to pass the limit rather than wrap silently.
    void checkLimit(Frames frames) {
        if (byteLimit == 0) {
            return;
        }
        const std::uint64_t bytes = static_cast<std::uint64_t>(written + frames) *
                                    static_cast<std::uint64_t>(spec.channels) *
                                    static_cast<std::uint64_t>(sampleFormatBytes(spec.format));
        if (bytes > byteLimit) {
            fail("the audio exceeds 4 GiB, the limit of " + std::string(containerName(effective)) +
                 "; write WAV with --format rf64 instead");
        }
    }

    void closeSndfile() noexcept {
        if (sf != nullptr) {
            sf_close(sf);
            sf = nullptr;
        }
    }

    // Also runs when the AudioWriter constructor throws (its destructor does not run then).
    ~Impl() { removeTemporary(); }

    void removeTemporary() noexcept {
        closeSndfile();
        temp.reset(); // removes the temporary file unless it was committed
    }
};

AudioWriter::AudioWriter(const fs::path& destination, const OutputSpec& spec)
    : AudioWriter(destination, spec, WriterFaults{}) {}

AudioWriter::AudioWriter(const fs::path& destination, const OutputSpec& spec, const WriterFaults& faults)
    : m_impl(std::make_unique<Impl>()) {
    Impl& d = *m_impl;
    d.destination = destination;
    d.spec = spec;
    d.faults = faults;

    if (spec.channels <= 0 || spec.channels > kMaxChannels) {
        throw UsageError("cannot write " + std::to_string(spec.channels) + " channels");
    }
    if (spec.container == Container::Flac && spec.format == SampleFormat::Float32) {
        throw UsageError("FLAC stores 16- or 24-bit integers only; use --bits 24 (or 16) for FLAC output");
    }
    if (spec.container == Container::Flac && spec.channels > 8) {
        throw UsageError("FLAC stores at most 8 channels; use WAV for " + std::to_string(spec.channels));
    }

    // Decide the container before creating anything.
    int major = 0;
    const int bytes = sampleFormatBytes(spec.format);
    switch (spec.container) {
    case Container::Wav:
        if (chooseWavHeader(spec.expectedFrames, spec.channels, bytes) == WavHeader::Riff) {
            d.effective = Container::Wav;
            // WAVEX carries the channel mask; plain WAVE_FORMAT_PCM is the most compatible for
            // mono/stereo by convention.
            major = spec.layout.source == LayoutSource::File && spec.channels > 2 ? SF_FORMAT_WAVEX
                                                                                  : SF_FORMAT_WAV;
            d.byteLimit = faults.riffLimitBytes.value_or(kRiffDataLimitBytes);
        } else {
            d.effective = Container::Rf64;
            major = SF_FORMAT_RF64;
        }
        break;
    case Container::Rf64:
        d.effective = Container::Rf64;
        major = SF_FORMAT_RF64;
        break;
    case Container::Aiff:
        d.effective = Container::Aiff;
        major = SF_FORMAT_AIFF;
        d.byteLimit = faults.riffLimitBytes.value_or(kRiffDataLimitBytes);
        if (spec.expectedFrames >= 0 &&
            static_cast<long double>(spec.expectedFrames) * spec.channels * bytes > kRiffDataLimitBytes) {
            throw UsageError("AIFF holds at most 4 GiB of audio; this output needs more, use WAV (RF64)");
        }
        break;
    case Container::Flac:
        d.effective = Container::Flac;
        major = SF_FORMAT_FLAC;
        break;
    default:
        throw UsageError("cannot write " + std::string(containerName(spec.container)) + " files");
    }

    SF_INFO sfinfo{};
    sfinfo.samplerate = spec.sampleRate;
    sfinfo.channels = spec.channels;
    sfinfo.format = major | subtypeFor(spec.format);
    if (!sf_format_check(&sfinfo)) {
        throw UsageError("libsndfile cannot write " + std::string(containerName(d.effective)) + " with " +
                         std::string(sampleFormatName(spec.format)) + "-bit samples at " +
                         std::to_string(spec.sampleRate) + " Hz");
    }

    // Create the temporary file now: a missing or read-only directory fails before any work.
    d.temp = std::make_unique<io::TempFile>(destination);

    d.file = std::make_unique<CheckedFile>(d.temp->fd(), faults, spec.durable);
    d.vio = CheckedFile::vio();
    d.sf = sf_open_virtual(&d.vio, SFM_WRITE, &sfinfo, d.file.get());
    if (d.sf == nullptr) {
        const std::string cause = sf_strerror(nullptr);
        const int ioError = d.file->error();
        d.removeTemporary();
        if (ioError != 0) {
            d.fail("cannot write the file header: " +
                   (ioError == ENOSPC ? std::string("disk full") : errnoText(ioError)));
        }
        d.fail("cannot create the audio file: " + cause);
    }
    // No PEAK chunk in float files: it carries the time of writing, so two renders of the same
    // audio would differ in their bytes (and in a batch manifest's sha256). Our JSON report has the
    // peaks; renders stay byte-reproducible.
    sf_command(d.sf, SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
    if (d.effective == Container::Rf64 && spec.container == Container::Wav) {
        // Chosen by us for a large or unknown size: become plain RIFF again if it stays small.
        sf_command(d.sf, SFC_RF64_AUTO_DOWNGRADE, nullptr, SF_TRUE);
    }
    if (spec.layout.source == LayoutSource::File && spec.layout.channels() == spec.channels &&
        d.effective != Container::Flac) {
        std::vector<int> map;
        for (Speaker s : spec.layout.speakers) {
            map.push_back(io::speakerToSndfile(s));
        }
        if (sf_command(d.sf, SFC_SET_CHANNEL_MAP_INFO, map.data(),
                       static_cast<int>(map.size() * sizeof(int))) != SF_TRUE) {
            d.warnings.push_back("the channel layout " + spec.layout.name() + " cannot be stored in " +
                                 std::string(containerName(d.effective)) +
                                 "; the output has no channel mask");
        }
    }
    d.checkIo("writing the header");
}

AudioWriter::~AudioWriter() = default;

const OutputSpec& AudioWriter::spec() const noexcept {
    return m_impl->spec;
}
Container AudioWriter::effectiveContainer() const noexcept {
    return m_impl->effective;
}
const fs::path& AudioWriter::temporaryPath() const noexcept {
    static const fs::path none;
    return m_impl->temp ? m_impl->temp->path() : none;
}
Frames AudioWriter::framesWritten() const noexcept {
    return m_impl->written;
}
const std::vector<std::string>& AudioWriter::warnings() const noexcept {
    return m_impl->warnings;
}

void AudioWriter::writeFloat(const float* interleaved, Frames frames) {
    Impl& d = *m_impl;
    LATHE_EXPECTS(d.sf != nullptr && !d.committed, "write after commit");
    LATHE_EXPECTS(d.spec.format == SampleFormat::Float32, "writeFloat on an integer output");
    d.checkLimit(frames);
    const sf_count_t n = sf_writef_float(d.sf, interleaved, frames);
    d.checkIo("writing audio");
    if (n != frames) {
        d.fail(std::string("writing audio failed: ") + sf_strerror(d.sf));
    }
    d.written += frames;
}

void AudioWriter::writeInt(const std::int32_t* interleaved, Frames frames) {
    Impl& d = *m_impl;
    LATHE_EXPECTS(d.sf != nullptr && !d.committed, "write after commit");
    LATHE_EXPECTS(isInteger(d.spec.format), "writeInt on a float output");
    d.checkLimit(frames);
    const sf_count_t n = sf_writef_int(d.sf, interleaved, frames);
    d.checkIo("writing audio");
    if (n != frames) {
        d.fail(std::string("writing audio failed: ") + sf_strerror(d.sf));
    }
    d.written += frames;
}

void AudioWriter::finish() {
    Impl& d = *m_impl;
    LATHE_EXPECTS(!d.committed, "finish after commit");
    if (d.sf == nullptr) {
        return; // finished already
    }
    try {
        // sf_close writes the final header through our checked I/O.
        const int closeResult = sf_close(d.sf);
        d.sf = nullptr;
        d.checkIo("finishing the file header");
        if (closeResult != 0) {
            d.fail(std::string("finishing the file failed: ") + sf_error_number(closeResult));
        }
        if (!d.file->flush()) {
            d.checkIo("writing audio");
        }
    } catch (...) {
        d.removeTemporary();
        throw;
    }
}

void AudioWriter::commit() {
    Impl& d = *m_impl;
    LATHE_EXPECTS(!d.committed && d.temp != nullptr, "commit twice");
    finish();
    try {
        d.temp->commit(d.spec.durable, d.faults.failFsync, d.faults.failRename);
        d.committed = true;
    } catch (...) {
        d.removeTemporary();
        throw;
    }
}

void AudioWriter::discard() noexcept {
    if (!m_impl->committed) {
        m_impl->removeTemporary();
    }
}

void ensureDistinctFiles(const fs::path& input, const fs::path& output) {
    std::error_code ec1;
    std::error_code ec2;
    const fs::path a = fs::weakly_canonical(fs::absolute(input), ec1);
    const fs::path b = fs::weakly_canonical(fs::absolute(output), ec2);
    if (!ec1 && !ec2 && a == b) {
        throw OutputError(output,
                          "is the input file; refusing to overwrite the input (choose another output path)");
    }
    struct stat si {};
    struct stat so {};
    if (::stat(input.c_str(), &si) == 0 && ::stat(output.c_str(), &so) == 0 && si.st_dev == so.st_dev &&
        si.st_ino == so.st_ino) {
        throw OutputError(output, "is the same file as the input " + input.string() +
                                      " (a hard link or symlink); refusing to overwrite the input");
    }
}

} // namespace lathe
