// Lathe (engine-private): a temporary file beside its destination, renamed over it only when
// complete (the "nothing is ever half-written" rule of every output Lathe makes).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <filesystem>

namespace lathe::io {

class TempFile {
public:
    /// Creates ".<name>.lathe-XXXXXX" next to `destination` with the permissions the final file
    /// should have (the existing file's, or 0666 & ~umask). Throws OutputError naming
    /// `destination` and why (directory missing, not writable, read-only, …), before any work.
    explicit TempFile(const std::filesystem::path& destination);
    ~TempFile(); ///< removes the temporary file unless committed
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const noexcept { return m_fd; }
    const std::filesystem::path& path() const noexcept { return m_path; }
    const std::filesystem::path& destination() const noexcept { return m_destination; }

    /// fsync (when `durable`), close, rename over the destination, fsync the directory (when
    /// `durable`). The fault flags are test hooks (WriterFaults). Throws OutputError; the
    /// temporary file is gone afterwards either way.
    void commit(bool durable = true, bool failFsync = false, bool failRename = false);
    /// Closes and removes the temporary file now.
    void discard() noexcept;

private:
    std::filesystem::path m_destination;
    std::filesystem::path m_path;
    int m_fd = -1;
    bool m_committed = false;
};

} // namespace lathe::io
