// Lathe: loudness and true peak per ITU-R BS.1770-5, EBU R128 / Tech 3341 / Tech 3342.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// What is measured, and how (every figure is tested: tests/conformance, tests/oracle):
// - Integrated loudness: 400 ms blocks starting every 100 ms (100 ms = round(fs/10) frames, as
//   libebur128; a block is 4 of them), an incomplete last block is discarded; absolute gate
//   −70 LUFS, relative gate 10 LU below the power mean of the blocks above it; both gates strict
//   (">"), as BS.1770-5 writes them.
// - Momentary (400 ms) and short-term (3 s) loudness: evaluated at every sub-block (≤ 2.5 ms:
//   LoudnessParams::subBlockFrames) for their maxima, and every 100 ms for the history.
// - Loudness range (Tech 3342): short-term values every 100 ms (2.9 s overlap), absolute gate
//   −70 LUFS, relative gate −20 LU below their power mean, LRA = P95 − P10 with the reference
//   MATLAB indexing sorted(round((n−1)·p/100 + 1)). Needs ≥ 3 s of audio.
// - True peak: every sample is interpolated ×4 (24-tap Kaiser-windowed sinc per phase) to find
//   candidates; around every ×4 local maximum within 2 dB of its 100 ms step's maximum, the signal
//   is interpolated ×16 (48-tap Kaiser sinc, flat to 0.012 dB up to 0.9·Nyquist) and the largest
//   value is the true peak. So the reading is that of a ×16 oversampling meter at every sample
//   rate, at close to the cost of a ×4 one. Positions are reported to 1/16 sample.
// - Channel weights (BS.1770-5 Annex 3): L, R, C, mono and centre-ish channels 1.0; surrounds at
//   ±60°…±120° (WAVE "back" pair of 5.x, "side" pair of 7.x) 1.41; back pair of 7.x (±135°…±150°),
//   back centre and height channels 1.0; LFE excluded. A mono file is one channel of weight 1.0
//   (a 1 kHz sine at −20 dBFS reads −23.0 LUFS); `dualMono` counts it twice (+3.01 dB), as a mono
//   file played over two loudspeakers. Multichannel files without a channel mask are refused
//   unless the layout is stated (AudioReader::Options::layout).
// - K-weighting for any rate from 8 to 384 kHz: lathe/design/LoudnessDesign.h.
#pragma once

#include <lathe/AudioReader.h>
#include <lathe/AudioSource.h>
#include <lathe/Backend.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/Progress.h>
#include <lathe/math/SampleStats.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lathe {

struct LoudnessOptions {
    bool dualMono = false; ///< a mono file counts twice (+3.01 dB), as libebur128's DUAL_MONO
    unsigned threads = 0;  ///< chunks measured in parallel; 0 = all hardware threads
    /// false: loudness only — no true peak (truePeakDbtp, channelTruePeakDbtp, PLR, PSR and the
    /// true-peak history are left empty), at about half the cost (for loudness targeting).
    bool truePeak = true;
    /// Chunk length in 100 ms steps; 0: the backend's choice (Backend::loudnessFeed: 10 s on the
    /// CPU, up to a minute on the GPU).
    Frames chunkSteps = 0;
    AudioReader::Options reader; ///< strictness, stated layout
    /// Called on the caller's thread with every block as it is read (frames from `position`) and
    /// its per-channel statistics, so other analyses can share the single read of the file.
    std::function<void(const AudioBuffer& block, Frames position, std::span<const math::SampleStats> stats)>
        blockTap;
};

/// A level with when it happened (seconds from the start; for windows, the window's end).
struct TimedLevel {
    double value = 0;
    double atSeconds = 0;
};

struct LoudnessHistory {
    double stepSeconds = 0.1;
    /// Value at the end of each 100 ms step (index i covers up to (i+1)·0.1 s). NaN where undefined
    /// (fewer than 400 ms / 3 s of audio so far) and −∞ for digital silence; JSON writes both as null.
    std::vector<double> momentaryLufs;
    std::vector<double> shortTermLufs;
    std::vector<double> truePeakDbtp; ///< per step, over all channels
};

/// Counts of short-term values (every 100 ms, ≥ 3 s) in 1 LU bins from −70 LUFS upward.
struct LoudnessHistogram {
    double lowLufs = -70.0;
    double binLu = 1.0;
    std::vector<std::int64_t> shortTermCounts;
    std::vector<std::int64_t> momentaryCounts;
};

struct LoudnessResult {
    std::string source;
    SampleRate sampleRate = 0;
    int channels = 0;
    ChannelLayout layout;
    std::vector<double> channelWeights;
    Frames frames = 0;
    double durationSeconds = 0;

    std::optional<double> integratedLufs;
    std::string integratedNote; ///< why it is undefined (too short, silence)
    std::optional<double> relativeGateLufs;
    std::optional<double> lraLu;
    std::optional<double> lraLowLufs;  ///< P10
    std::optional<double> lraHighLufs; ///< P95
    std::string lraNote;
    std::optional<TimedLevel> maxMomentaryLufs;
    std::optional<TimedLevel> maxShortTermLufs;
    std::optional<TimedLevel> truePeakDbtp; ///< over all channels
    int truePeakChannel = -1;
    std::optional<TimedLevel> samplePeakDbfs;
    std::vector<std::optional<double>> channelTruePeakDbtp;
    std::vector<std::optional<double>> channelSamplePeakDbfs;
    std::optional<double> plrDb;                ///< peak-to-loudness ratio: true peak − integrated
    std::optional<double> psrDb;                ///< peak-to-short-term ratio: true peak − max short-term
    std::vector<math::SampleStats> sampleStats; ///< per channel, over the whole file (DC, RMS, sample peak)

    LoudnessHistory history;
    LoudnessHistogram histogram;
    /// Channel-weighted mean square of every 400 ms block above the absolute gate (for album
    /// loudness over several files).
    std::vector<double> gatedBlockMeanSquares;
    std::string backend;
    double seconds = 0; ///< wall time of the measurement
};

/// Measures a file. Throws InputError (unreadable, or a multichannel file without a layout),
/// AudioContentError (NaN/Inf samples, which have no loudness), CancelledError. A backend without
/// Capability::Loudness measures on the CPU reference; LoudnessResult::backend names the one used.
LoudnessResult measureLoudness(const std::filesystem::path& file, const LoudnessOptions& options,
                               Backend& backend, const JobControl& control = {});

/// Measures any source (for tests and generated audio).
LoudnessResult measureLoudness(AudioSource& source, const LoudnessOptions& options, Backend& backend,
                               const JobControl& control = {});

/// The measurement of `frames` frames from records measured elsewhere (Backend::trialLoudness: a
/// device's, over audio it holds): `chunks` in order from frame 0, as measureLoudness would have
/// read them, with `weights` (channelWeights). The loudness figures are measureLoudness's for
/// the same records; the sample statistics, source, layout and backend are left for the caller.
LoudnessResult loudnessFromRecords(const LoudnessParams& params, std::vector<double> weights,
                                   std::span<const ChunkRecords> chunks, Frames frames);

/// The BS.1770 weight of each channel of `layout` (see the header comment). Throws InputError for
/// an unknown multichannel layout.
std::vector<double> channelWeights(const ChannelLayout& layout, bool dualMono, const std::string& source);

/// Integrated loudness of several programmes measured as one (album / ensemble): the gates are
/// applied to the blocks of all of them together (libebur128's loudness_global_multiple).
struct AlbumLoudness {
    std::optional<double> integratedLufs;
    std::string note;
};
AlbumLoudness albumLoudness(std::span<const LoudnessResult> results);

} // namespace lathe
