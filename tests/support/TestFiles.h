// Lathe tests: temporary directories and small file helpers.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lathe::test {

/// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& name) const { return m_path / name; }
    /// Names of every entry in the directory (to check that no temporary file was left behind).
    std::vector<std::string> entries() const;

private:
    std::filesystem::path m_path;
};

std::vector<std::uint8_t> readBytes(const std::filesystem::path& p);
void writeBytes(const std::filesystem::path& p, const std::vector<std::uint8_t>& bytes);

} // namespace lathe::test
