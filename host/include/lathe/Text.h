// Lathe: number and time formatting shared by the CLI, the reports and the UI.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>
#include <string_view>

namespace lathe {

/// Fixed-point text with `decimals` digits; "-inf"/"inf"/"nan" for non-finite values.
std::string formatFixed(double value, int decimals);

/// Level text such as "-3.21 dBFS", or "-inf dBFS" for silence.
std::string formatDb(double db, const char* unit = "dBFS");

/// "HH:MM:SS.mmm" (hours omitted below one hour: "MM:SS.mmm").
std::string formatDuration(double seconds);

/// ASCII lower case (for option values, file extensions, channel labels).
std::string toLower(std::string_view text);

/// Byte count with a binary unit: "512 B", "17.3 MiB", "4.00 GiB".
std::string formatBytes(double bytes);

} // namespace lathe
