// Lathe: real codec round trips — what a platform's lossy stream does to a master's peaks,
// loudness and spectrum.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Each codec of the platform table (lathe/Platforms.h: AAC 256, Vorbis 320, Opus 160, MP3 320) is
// run for real with FFmpeg's libraries: the file is converted (libswresample) to the encoder's
// sample format and rate (the file's own rate where the codec takes it, else 48 kHz: Opus only
// runs at 48 kHz), encoded, every packet decoded at once, and the decoded float samples — with the
// encoder's priming delay removed, so they align with the input — are measured as they stream:
// BS.1770 loudness and true peak, the long-term spectrum, samples beyond full scale (they clip in
// any fixed-point player). Memory is one block per codec; the encoded stream is never stored
// unless a listening copy is asked for.
#pragma once

#include <lathe/AudioReader.h>
#include <lathe/Backend.h>
#include <lathe/Loudness.h>
#include <lathe/Platforms.h>
#include <lathe/Progress.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

struct CodecPreviewOptions {
    std::vector<PlatformCodec> codecs; ///< empty: every codec of the built-in table
    unsigned jobs = 0;                 ///< codecs run at once; 0 = one per CPU
    AudioReader::Options reader;
    /// When set: each decoded stream is written there as <stem>.<codec>.wav (32-bit float, so
    /// overs above full scale stay visible), for listening.
    std::optional<std::filesystem::path> renderDir;
};

struct CodecRoundTrip {
    PlatformCodec codec;
    SampleRate codecRate = 0;             ///< the rate the codec ran at
    Frames primingFrames = 0;             ///< encoder delay removed from the decoded stream
    LoudnessResult decoded;               ///< loudness and true peak of the decoded stream
    double loudnessChangeLu = 0;          ///< decoded − original integrated loudness
    double truePeakChangeDb = 0;          ///< decoded − original true peak
    Frames samplesOverFullScale = 0;      ///< decoded samples with |x| > 1.0
    double largestSample = 0;             ///< largest |x| decoded
    std::vector<double> bandDifferenceDb; ///< per octave band (lathe/Spectrum.h), decoded − original
    std::optional<double> bandwidthHz;    ///< where the codec's low-pass starts (−10 dB re the original)
    std::optional<std::filesystem::path> render;
};

/// What a platform's listeners get, with its codec's measured figures after its playback gain.
struct PlatformCodecRow {
    PlatformPreview preview;                     ///< from the original's measurement
    std::string codecId;                         ///< empty: the platform streams lossless (or has no stream)
    std::optional<double> postCodecTruePeakDbtp; ///< decoded true peak + the playback gain
    std::optional<bool> postCodecTruePeakOk;     ///< within the platform's advice
    bool clipsAfterDecode = false;               ///< decoded samples beyond full scale
};

struct CodecPreviewResult {
    std::string source;
    LoudnessResult original;
    std::vector<double> bandCentresHz;
    std::vector<CodecRoundTrip> codecs;
    std::vector<PlatformCodecRow> platforms;
    std::vector<std::string> warnings; ///< the file's (truncation, …)
    double seconds = 0;
};

/// Whether this build has the codecs (LATHE_ENABLE_CODECS; only the GPU machine's bundle is built
/// without them). Without: previewCodecs throws UsageError saying so.
bool codecPreviewAvailable();

/// Runs every codec on `input` (mono or stereo; a mono file is encoded at half the stereo bit rate,
/// as platforms do, and as libvorbis requires). Throws InputError, AudioContentError (NaN/Inf,
/// no frames), UsageError (more than 2 channels, an unknown encoder in this FFmpeg build),
/// OutputError (renderDir), CancelledError.
CodecPreviewResult previewCodecs(const std::filesystem::path& input, const CodecPreviewOptions& options,
                                 Backend& backend, const JobControl& control = {});

nlohmann::json toJson(const CodecPreviewResult& result);

} // namespace lathe
