// Lathe: writing non-audio outputs (reports) with the same guarantee as audio: a temporary file
// beside the destination, checked writes, fsync, rename only when complete.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <filesystem>
#include <string>

namespace lathe {

/// Writes `content` to `destination` atomically. Throws OutputError naming the file and the cause;
/// an existing file at `destination` is untouched unless the whole new content is in place.
void writeFileAtomically(const std::filesystem::path& destination, const std::string& content);

/// Fails now (OutputError) if `destination` could not be written later: creates and removes a
/// temporary file beside it. For jobs that produce their output only at the end.
void checkWritable(const std::filesystem::path& destination);

} // namespace lathe
