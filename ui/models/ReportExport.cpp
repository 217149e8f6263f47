// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReportExport.h"

#include <lathe/FileOutput.h>
#include <lathe/HtmlReport.h>
#include <lathe/JsonReport.h>

#include <QFileInfo>

namespace lathe::ui {

void exportReport(const AnalysisSnapshot& input, const AnalysisSnapshot* master, const QString& htmlPath,
                  std::optional<double> targetLufs, const TranslationSnapshot* translation) {
    HtmlReportInput in;
    in.result = &input.analysis;
    in.compare = master != nullptr ? &master->analysis : nullptr;
    in.platforms = master != nullptr ? master->platforms : input.platforms;
    if (targetLufs) {
        in.targetLufs = *targetLufs;
        in.targetLabel = "target " + QString::number(*targetLufs, 'f', 1).toStdString() + " LUFS (preset)";
    }
    in.backend = (master != nullptr ? master->backend : input.backend).toStdString();
    in.parameters.push_back({"exported by", "Lathe Studio"});
    if (master != nullptr) {
        in.gainReduction = master->gainReduction;
    }
    if (translation != nullptr && translation->path == input.path) {
        in.translation = &translation->result;
    }
    const std::filesystem::path html = htmlPath.toStdString();
    writeFileAtomically(html, renderHtmlReport(in));
    nlohmann::json j;
    j["mix"] = toJson(input.analysis, true);
    if (master != nullptr) {
        j["master"] = toJson(master->analysis, true);
    }
    std::filesystem::path json = html;
    json.replace_extension(".json");
    writeFileAtomically(json, j.dump(2) + "\n");
}

} // namespace lathe::ui
