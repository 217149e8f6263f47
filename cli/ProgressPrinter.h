// Lathe CLI: progress on stderr — a bar on a terminal, plain percentage lines otherwise.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Progress.h>

#include <string>

namespace lathe::cli {

class ProgressPrinter {
public:
    /// `label` names the job ("convert mix.wav"); `enabled` false prints nothing (--quiet).
    ProgressPrinter(std::string label, bool enabled);
    ~ProgressPrinter();

    void update(const Progress& p);
    /// Ends the bar line (terminal) so that later messages start on a fresh line.
    void finish();

private:
    std::string m_label;
    bool m_enabled;
    bool m_tty;
    int m_lastDecile = -1;
    double m_lastDraw = -1.0;
    bool m_drawn = false;
};

} // namespace lathe::cli
