// Lathe tests: run the built `lathe` binary as a child process (end-to-end CLI tests).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <map>
#include <string>
#include <vector>

namespace lathe::test {

struct ProcessResult {
    int exitCode = -1; ///< the exit status, or 128 + signal if the child was killed by a signal
    std::string out;   ///< everything written to stdout
    std::string err;   ///< everything written to stderr
};

struct ProcessOptions {
    std::map<std::string, std::string> env; ///< added to the parent's environment
    /// When stderr contains this text for the `signalOnOccurrence`-th time, send `signal` to the
    /// child (0: never).
    std::string signalWhenStderrContains;
    int signalOnOccurrence = 1;
    int signal = 0;
    double timeoutSeconds = 120;
};

/// Runs `program` with `args`, waits for it, and returns its exit code and output.
ProcessResult runProcess(const std::string& program, const std::vector<std::string>& args,
                         const ProcessOptions& options = {});

/// Path of the `lathe` binary under test (set by CMake).
std::string latheBinary();

/// Empty when `lathe info --devices` finds a usable CUDA device, else the probe's reason (the GPU
/// tests skip with it).
std::string cudaUnavailableReason();

} // namespace lathe::test
