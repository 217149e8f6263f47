// Lathe fuzzing: the bytes of one fuzz input as a file, without touching the disk.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/Stage.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace lathe::fuzz {

/// An anonymous in-memory file (memfd) holding `size` bytes, opened by path as any user file is:
/// libsndfile and the engine read it through the same code as a file on disk.
class MemoryFile {
public:
    MemoryFile(const std::uint8_t* data, std::size_t size) : m_fd(::memfd_create("lathe-fuzz", MFD_CLOEXEC)) {
        if (m_fd < 0) {
            std::abort(); // the harness itself failed, not Lathe
        }
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::write(m_fd, data + done, size - done);
            if (n <= 0) {
                std::abort();
            }
            done += static_cast<std::size_t>(n);
        }
        m_path = "/proc/self/fd/" + std::to_string(m_fd);
    }
    ~MemoryFile() { ::close(m_fd); }
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;
    const std::string& path() const { return m_path; }

private:
    int m_fd;
    std::string m_path;
};

/// Prepares `stages` for 48 kHz stereo and runs one block of `frames` through them, each sample
/// from `sample(channel, frame)`.
template <typename Sample>
void runStages(std::vector<std::unique_ptr<Stage>>& stages, Frames frames, Sample sample) {
    StreamFormat format;
    format.sampleRate = 48000;
    format.channels = 2;
    format.layout = ChannelLayout::fromConvention(2);
    AudioBuffer in(2, frames);
    in.setFrames(frames);
    for (int c = 0; c < 2; ++c) {
        for (Frames i = 0; i < frames; ++i) {
            in.channel(c)[i] = sample(c, i);
        }
    }
    for (auto& s : stages) {
        format = s->prepare(format, frames);
    }
    std::vector<AudioBuffer> buffers(stages.size());
    const AudioBuffer* current = &in;
    for (std::size_t k = 0; k < stages.size(); ++k) {
        stages[k]->process(*current, buffers[k]);
        current = &buffers[k];
    }
}

} // namespace lathe::fuzz
