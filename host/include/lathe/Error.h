// Lathe: typed errors thrown at the engine's API boundaries.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Contract: the engine never prints and never exits. Every failure is one of the exceptions below;
// its what() is one line that names the file (and channel/frame where relevant) and the cause. The
// CLI maps kind() to an exit code (see cli/ExitCodes.h and README "Exit codes").
#pragma once

#include <lathe/Types.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace lathe {

enum class ErrorKind {
    Usage,        ///< invalid parameters or option combination
    Input,        ///< input missing, unreadable, unsupported, corrupt or outside Lathe's limits
    Output,       ///< output cannot be written (path refused, directory missing, disk full, …)
    AudioContent, ///< the audio itself cannot be processed (NaN/Inf, no audio)
    Device,       ///< a requested compute backend is unavailable or failed
    Cancelled,    ///< the caller's cancel token was set (Ctrl-C in the CLI)
    Internal,     ///< a bug: an invariant did not hold
};

/// Base of every Lathe exception.
class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}
    ErrorKind kind() const noexcept { return m_kind; }

private:
    ErrorKind m_kind;
};

class UsageError : public Error {
public:
    explicit UsageError(const std::string& message) : Error(ErrorKind::Usage, message) {}
};

/// Something about an input file. Message format: "<path>: <cause>".
class InputError : public Error {
public:
    InputError(const std::filesystem::path& path, const std::string& cause)
        : Error(ErrorKind::Input, path.string() + ": " + cause), m_path(path) {}
    const std::filesystem::path& path() const noexcept { return m_path; }

private:
    std::filesystem::path m_path;
};

/// Something about an output file. Message format: "<path>: <cause>".
class OutputError : public Error {
public:
    OutputError(const std::filesystem::path& path, const std::string& cause)
        : Error(ErrorKind::Output, path.string() + ": " + cause), m_path(path) {}
    const std::filesystem::path& path() const noexcept { return m_path; }

private:
    std::filesystem::path m_path;
};

/// The audio cannot be processed as it is. Carries the first offending channel and frame when
/// there is one (−1 otherwise). Message format: "<path>: <cause>".
class AudioContentError : public Error {
public:
    AudioContentError(const std::filesystem::path& path, const std::string& cause, int channel = -1,
                      Frames frame = -1)
        : Error(ErrorKind::AudioContent, path.string() + ": " + cause), m_path(path), m_channel(channel),
          m_frame(frame) {}
    const std::filesystem::path& path() const noexcept { return m_path; }
    int channel() const noexcept { return m_channel; }
    Frames frame() const noexcept { return m_frame; }

private:
    std::filesystem::path m_path;
    int m_channel;
    Frames m_frame;
};

/// A GPU call failed. Carries the call, its error name, and the source file and line of the call.
class GpuError : public Error {
public:
    GpuError(const std::string& call, const std::string& errorName, const std::string& detail,
             const std::string& file, int line)
        : Error(ErrorKind::Device,
                call + " failed: " + errorName + " (" + detail + ") at " + file + ":" + std::to_string(line)),
          m_call(call), m_errorName(errorName) {}
    const std::string& call() const noexcept { return m_call; }
    const std::string& errorName() const noexcept { return m_errorName; }

private:
    std::string m_call;
    std::string m_errorName;
};

/// A backend was requested that cannot run here ("cuda" without a device, an unknown name).
class BackendUnavailableError : public Error {
public:
    explicit BackendUnavailableError(const std::string& message) : Error(ErrorKind::Device, message) {}
};

class CancelledError : public Error {
public:
    CancelledError() : Error(ErrorKind::Cancelled, "cancelled") {}
};

/// Precondition check for invariants (a failure is a bug in Lathe, never the user's fault).
#define LATHE_EXPECTS(cond, what)                                                                            \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            throw ::lathe::Error(::lathe::ErrorKind::Internal, std::string("internal error: ") + (what) +    \
                                                                   " (" __FILE__ ":" +                       \
                                                                   std::to_string(__LINE__) + ")");          \
        }                                                                                                    \
    } while (false)

} // namespace lathe
