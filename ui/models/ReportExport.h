// Lathe Studio: the report export — the same HTML and JSON reports as the CLI, from the snapshots.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/EngineController.h"

#include <QString>

namespace lathe::ui {

/// Writes `htmlPath` (lathe's HTML report: the mix, and the master as the comparison when there
/// is one) and the JSON report beside it (same name, .json), each atomically. Throws lathe::Error.
/// `translation` (optional) adds the speaker section when it was measured on the file the report
/// leads with (the mix without a master).
void exportReport(const AnalysisSnapshot& input, const AnalysisSnapshot* master, const QString& htmlPath,
                  std::optional<double> targetLufs, const TranslationSnapshot* translation = nullptr);

} // namespace lathe::ui
