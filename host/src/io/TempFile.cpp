// SPDX-License-Identifier: GPL-3.0-or-later
#include "TempFile.h"

#include <lathe/Error.h>
#include <lathe/FileOutput.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace lathe::io {
namespace fs = std::filesystem;

namespace {

std::string describeCreateError(int e) {
    switch (e) {
    case ENOENT:
        return "the output directory does not exist";
    case ENOTDIR:
        return "a component of the output path is not a directory";
    case EACCES:
    case EPERM:
        return std::string("the output directory is not writable (") + std::strerror(e) + ")";
    case EROFS:
        return "the output directory is on a read-only file system";
    case ENOSPC:
        return "no space left on the output device";
    default:
        return std::string("cannot create a file in the output directory (") + std::strerror(e) + ")";
    }
}

/// The process umask, read without changing it (umask(2) would race with other threads).
mode_t currentUmask() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Umask:", 0) == 0) {
            try {
                return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
            } catch (const std::exception&) {
                break;
            }
        }
    }
    return 022;
}

fs::path directoryOf(const fs::path& p) {
    return p.has_parent_path() ? p.parent_path() : fs::path(".");
}

} // namespace

TempFile::TempFile(const fs::path& destination) : m_destination(destination) {
    std::error_code ec;
    if (fs::is_directory(destination, ec)) {
        throw OutputError(destination, "is a directory");
    }
    // Appending (rather than "." + name) also sidesteps GCC 12's false -Wrestrict (PR 105329) at -O3.
    std::string name = ".";
    name += destination.filename().string();
    name += ".lathe-XXXXXX";
    std::string pattern = (directoryOf(destination) / name).string();
    m_fd = ::mkstemp(pattern.data());
    if (m_fd < 0) {
        throw OutputError(destination, describeCreateError(errno));
    }
    m_path = pattern;
    struct stat existing {};
    const mode_t mode =
        ::stat(destination.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : (0666 & ~currentUmask());
    if (::fchmod(m_fd, mode) != 0) {
        const int e = errno;
        discard();
        throw OutputError(destination,
                          std::string("cannot set permissions of the temporary file: ") + std::strerror(e));
    }
}

TempFile::~TempFile() {
    if (!m_committed) {
        discard();
    }
}

void TempFile::discard() noexcept {
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    if (!m_path.empty()) {
        ::unlink(m_path.c_str());
        m_path.clear();
    }
}

void TempFile::commit(bool durable, bool failFsync, bool failRename) {
    LATHE_EXPECTS(m_fd >= 0 && !m_committed, "commit of a closed temporary file");
    try {
        if (failFsync || (durable && ::fsync(m_fd) != 0)) {
            const int e = failFsync ? EIO : errno;
            throw OutputError(m_destination,
                              std::string("flushing to disk (fsync) failed: ") + std::strerror(e));
        }
        const int fd = m_fd;
        m_fd = -1;
        if (::close(fd) != 0) {
            throw OutputError(m_destination, std::string("closing the file failed: ") + std::strerror(errno));
        }
        if (failRename || ::rename(m_path.c_str(), m_destination.c_str()) != 0) {
            const int e = failRename ? EIO : errno;
            throw OutputError(m_destination,
                              std::string("moving the finished file into place failed: ") + std::strerror(e));
        }
        m_path.clear();
        m_committed = true;
        // Make the rename itself durable. A failure here cannot un-write the file, so it is ignored.
        const int dirFd = durable ? ::open(directoryOf(m_destination).c_str(), O_RDONLY | O_DIRECTORY) : -1;
        if (dirFd >= 0) {
            ::fsync(dirFd);
            ::close(dirFd);
        }
    } catch (...) {
        discard();
        throw;
    }
}

} // namespace lathe::io

namespace lathe {

void checkWritable(const std::filesystem::path& destination) {
    io::TempFile probe(destination); // removed again by its destructor
}

void writeFileAtomically(const std::filesystem::path& destination, const std::string& content) {
    io::TempFile file(destination);
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(file.fd(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int e = n < 0 ? errno : ENOSPC;
            throw OutputError(destination,
                              std::string("writing failed: ") +
                                  (e == ENOSPC ? "disk full (no space left on device)" : std::strerror(e)));
        }
        done += static_cast<std::size_t>(n);
    }
    file.commit();
}

} // namespace lathe
