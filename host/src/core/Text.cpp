// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/Text.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace lathe {

std::string formatFixed(double value, int decimals) {
    if (std::isnan(value)) {
        return "nan";
    }
    if (std::isinf(value)) {
        return value < 0 ? "-inf" : "inf";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

std::string formatDb(double db, const char* unit) {
    return formatFixed(db, 2) + " " + unit;
}

std::string formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) {
        return "--:--";
    }
    const auto totalMs = static_cast<long long>(std::llround(seconds * 1000.0));
    const long long ms = totalMs % 1000;
    const long long s = (totalMs / 1000) % 60;
    const long long m = (totalMs / 60000) % 60;
    const long long h = totalMs / 3600000;
    char buf[64];
    if (h > 0) {
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld.%03lld", h, m, s, ms);
    } else {
        std::snprintf(buf, sizeof buf, "%02lld:%02lld.%03lld", m, s, ms);
    }
    return buf;
}

std::string toLower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string formatBytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        ++u;
    }
    return u == 0 ? formatFixed(bytes, 0) + " B" : formatFixed(bytes, bytes < 10 ? 2 : 1) + " " + units[u];
}

} // namespace lathe
