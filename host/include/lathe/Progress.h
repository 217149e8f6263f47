// Lathe: progress reporting and cancellation for long jobs.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Types.h>

#include <atomic>
#include <functional>
#include <string_view>

namespace lathe {

/// Set from any thread (or a signal handler: it is a lock-free atomic) to ask a running job to stop.
/// Jobs check it between blocks (every ~1 s of audio at most) and throw CancelledError; outputs in
/// progress are discarded, never left partial.
class CancelToken {
public:
    /// Requests cancellation. `reason` is free for the caller (the CLI stores the signal number).
    void cancel(int reason = 1) noexcept {
        m_reason.store(reason == 0 ? 1 : reason, std::memory_order_relaxed);
    }
    bool cancelled() const noexcept { return m_reason.load(std::memory_order_relaxed) != 0; }
    int reason() const noexcept { return m_reason.load(std::memory_order_relaxed); }

private:
    std::atomic<int> m_reason{0};
    static_assert(std::atomic<int>::is_always_lock_free, "cancel() must be async-signal-safe");
};

/// A progress snapshot. `done`/`total` count input frames of the current phase.
struct Progress {
    std::string_view phase; ///< "convert", "analyse", "render", …
    Frames done = 0;
    Frames total = 0;          ///< 0 when unknown
    double elapsedSeconds = 0; ///< since the job started
    double fraction() const {
        return total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
    }
};

/// Callbacks a job calls on the caller's thread. Both may be empty.
struct JobControl {
    std::function<void(const Progress&)> progress; ///< called after every block
    const CancelToken* cancel = nullptr;
};

} // namespace lathe
