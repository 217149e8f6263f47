// Lathe CLI: documented exit codes (README "Exit codes"). Scripts may rely on them.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Error.h>

namespace lathe::cli {

enum ExitCode : int {
    kExitOk = 0,
    kExitInternal = 1,     ///< a bug in Lathe (please report it)
    kExitUsage = 2,        ///< bad command line or option values
    kExitInput = 3,        ///< input missing, unreadable, unsupported, corrupt, or outside the limits
    kExitOutput = 4,       ///< output cannot be written (same as input, no directory, disk full, …)
    kExitAudio = 5,        ///< the audio cannot be processed (NaN/Inf without --sanitize, no audio)
    kExitDevice = 6,       ///< the requested backend is unavailable or the GPU failed
    kExitSomeFailed = 7,   ///< batch: some files failed (each is in the manifest with its error)
    kExitSignalBase = 128, ///< cancelled by signal N: exit 128 + N (130 for Ctrl-C, 143 for SIGTERM)
};

inline int exitCodeFor(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::Usage:
        return kExitUsage;
    case ErrorKind::Input:
        return kExitInput;
    case ErrorKind::Output:
        return kExitOutput;
    case ErrorKind::AudioContent:
        return kExitAudio;
    case ErrorKind::Device:
        return kExitDevice;
    case ErrorKind::Cancelled:
        return kExitSignalBase + 2; // SIGINT unless the caller knows better
    case ErrorKind::Internal:
        return kExitInternal;
    }
    return kExitInternal;
}

} // namespace lathe::cli
