// Lathe: codec round trips in a build without FFmpeg's libraries (LATHE_ENABLE_CODECS=OFF).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/CodecPreview.h>
#include <lathe/Error.h>

namespace lathe {

bool codecPreviewAvailable() {
    return false;
}

CodecPreviewResult previewCodecs(const std::filesystem::path&, const CodecPreviewOptions&, Backend&,
                                 const JobControl&) {
    throw UsageError("this build of Lathe has no codecs (configured with LATHE_ENABLE_CODECS=OFF)");
}

nlohmann::json toJson(const CodecPreviewResult&) {
    return nlohmann::json::object();
}

} // namespace lathe
