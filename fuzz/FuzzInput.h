// Lathe fuzzing: the bytes of one fuzz input as a file, without touching the disk.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

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

} // namespace lathe::fuzz
