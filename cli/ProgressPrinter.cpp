// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProgressPrinter.h"

#include <lathe/Text.h>

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace lathe::cli {

ProgressPrinter::ProgressPrinter(std::string label, bool enabled)
    : m_label(std::move(label)), m_enabled(enabled), m_tty(::isatty(STDERR_FILENO) != 0) {}

ProgressPrinter::~ProgressPrinter() {
    finish();
}

void ProgressPrinter::update(const Progress& p) {
    if (!m_enabled || p.total <= 0) {
        return;
    }
    const double f = std::clamp(p.fraction(), 0.0, 1.0);
    if (!m_tty) {
        // Logs and pipes: one line per 10 %, nothing else.
        const int decile = static_cast<int>(f * 10.0);
        if (decile > m_lastDecile && decile > 0) {
            m_lastDecile = decile;
            std::fprintf(stderr, "%s: %d%%\n", m_label.c_str(), decile * 10);
        }
        return;
    }
    if (p.elapsedSeconds - m_lastDraw < 0.1 && f < 1.0) {
        return; // at most 10 redraws per second
    }
    m_lastDraw = p.elapsedSeconds;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(f * kWidth);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::string extra = formatDuration(p.elapsedSeconds) + " elapsed";
    if (f > 0.0 && f < 1.0) {
        extra += ", " + formatDuration(p.elapsedSeconds * (1.0 - f) / f) + " left";
    }
    std::fprintf(stderr, "\r%s [%s] %3d%%  %s\033[K", m_label.c_str(), bar.c_str(),
                 static_cast<int>(f * 100.0), extra.c_str());
    std::fflush(stderr);
    m_drawn = true;
}

void ProgressPrinter::finish() {
    if (m_drawn) {
        std::fputc('\n', stderr);
        m_drawn = false;
    }
}

} // namespace lathe::cli
