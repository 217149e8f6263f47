// Lathe (private): mapping between libsndfile's format codes and Lathe's enums.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioFormat.h>

#include <sndfile.h>

namespace lathe::io {

Container containerFromSndfile(int format);
Encoding encodingFromSndfile(int format);
/// libsndfile's name for the major format (e.g. "WAV (Microsoft)"), or "unknown".
std::string sndfileMajorName(int format);

/// Speaker for a libsndfile channel map entry (SF_CHANNEL_MAP_*).
Speaker speakerFromSndfile(int map);
/// libsndfile channel map entry for a speaker; SF_CHANNEL_MAP_INVALID if none.
int speakerToSndfile(Speaker s);

} // namespace lathe::io
