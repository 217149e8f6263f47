// Lathe: catalogue work — many files mastered (or analysed) in one command, idempotent and
// restartable through a manifest, splittable into deterministic shards for a cluster array job.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Analysis.h>
#include <lathe/Backend.h>
#include <lathe/Master.h>
#include <lathe/Progress.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lathe::batch {

/// One input and where its output goes, relative to the output directory.
struct Item {
    std::filesystem::path input;
    std::filesystem::path relative; ///< e.g. "album/01 song" (no extension)
};

/// The audio file extensions a directory is searched for (lower case, without the dot).
bool isAudioExtension(const std::filesystem::path& path);

/// The inputs as items, sorted by `relative` (a deterministic order, whatever the directory
/// listing order): a file is itself (relative = its name); a directory is every audio file below
/// it (relative = the path below it, so subfolders are kept); a list file (.txt, .list, .lst) is
/// one path per line (relative to the list's folder unless absolute; blank lines and lines
/// starting with '#' skipped), each taken as a file or directory argument. Throws InputError for
/// a missing input and UsageError when two inputs would write the same output or none is found.
/// Files inside `exclude` (the output directory) and hidden files are never inputs.
std::vector<Item> discover(const std::vector<std::filesystem::path>& inputs,
                           const std::filesystem::path& exclude = {});

/// Shard `index` of `count` (0 ≤ index < count): the items whose position k in the sorted list
/// has k mod count = index. Every item is in exactly one shard; `discover` sorts, so every node
/// computes the same split from the same inputs.
struct Shard {
    int index = 0;
    int count = 1;
};
Shard parseShard(const std::string& text); ///< "i/N"; UsageError otherwise
std::vector<Item> select(const std::vector<Item>& items, Shard shard);

/// SHA-256 of a file's bytes, lower-case hex (OpenSSL). Throws InputError when unreadable.
std::string sha256OfFile(const std::filesystem::path& path);
/// SHA-256 of a string, lower-case hex.
std::string sha256OfText(const std::string& text);

/// The manifest of a run in `dir`: "manifest.jsonl", or "manifest.shard-I-of-N.jsonl" for a shard
/// (each process appends to its own; no two processes write one file).
std::filesystem::path manifestPath(const std::filesystem::path& dir, Shard shard);

/// Every entry of every manifest*.jsonl in `dir`, the last line per input winning (a rerun's
/// result replaces the crashed or failed one). Lines that do not parse are skipped (a line cut
/// by a crash). Ordered by input path.
std::vector<nlohmann::json> readManifests(const std::filesystem::path& dir);

struct Settings {
    std::vector<std::filesystem::path> inputs;
    std::filesystem::path outputDir;
    MasterSettings master;    ///< preset, target, output format …
    bool analyzeOnly = false; ///< write each file's analysis JSON instead of a master
    /// Cores to use, as make -j: that many files at once, each engine single-threaded (fewer files
    /// than jobs share the cores out). 0 = availableCpus().
    unsigned jobs = 0;
    Shard shard;              ///< this process's share
    /// The inputs are one album: each song is mastered by the preset without a loudness target of
    /// its own, then one gain for the whole album brings the album's integrated loudness (all
    /// songs gated together) to the target (--target, else the preset's), so the songs keep their
    /// loudness relative to each other exactly — as Spotify's and Apple's album normalisation. The
    /// gain stops where the loudest song's true peak meets the ceiling (said, never clipped).
    /// Writes album.json: the gain, the loudness and spectral-balance spread, outliers.
    bool album = false;
    std::string outputExtension = "wav";
};

/// The CPUs this process may run on (its affinity mask: taskset, a Slurm or container cpuset).
unsigned availableCpus();

enum class Status { Done, Skipped, Failed };
std::string_view statusName(Status s); ///< "done", "skipped", "failed"

struct ItemResult {
    Item item;
    Status status = Status::Failed;
    std::string error;    ///< why it failed
    nlohmann::json entry; ///< its manifest line (done and failed; the matching one when skipped)
};

struct Summary {
    std::vector<ItemResult> items; ///< this process's items, in order
    std::size_t done = 0, skipped = 0, failed = 0;
    double seconds = 0;
};

/// The hash that says "the same work": the resolved preset and target, the output format, the
/// mode and Lathe's version. An output whose manifest entry has this hash and its input's content
/// hash (and whose file still exists with the recorded size) is skipped.
std::string settingsHash(const Settings& settings);

/// Runs this process's shard: each item is skipped when finished before, else mastered (or
/// analysed) into outputDir/relative.ext through a temporary file, and its manifest line appended
/// (and flushed to disk) when it ends, done or failed. One file's failure never stops the others.
/// `onItem` (any thread, serialised) reports each finished item; control.progress, when set, is
/// called from the job threads concurrently (per block of each file). Cancellation stops every item in
/// flight (nothing partial is left) and throws CancelledError after the others have stopped.
Summary
run(const Settings& settings, Backend& backend, const JobControl& control,
    const std::function<void(const ItemResult&, std::size_t finished, std::size_t total)>& onItem = {});

/// Album consistency (album mode), from each song's final loudness and long-term spectrum: the
/// loudness spread, each song's spectral balance (octave bands relative to its own level) against
/// the album's mean, and the songs that stand out. Kept beside the manifest as album.json.
nlohmann::json albumConsistency(const std::vector<std::string>& names,
                                const std::vector<AnalysisResult>& songs);
/// A song whose integrated loudness is this far from the album's median is flagged.
inline constexpr double kAlbumLoudnessOutlierLu = 3.0;
/// A song whose spectral balance differs from the album's mean by this much (RMS over octave
/// bands, dB) is flagged.
inline constexpr double kAlbumBalanceOutlierDb = 3.0;

/// summary.csv and summary.html in `dir` from the manifests there (all shards): one row per
/// input, what the manifest says (and album.json's section in album mode). Returns the entries used.
std::vector<nlohmann::json> writeSummary(const std::filesystem::path& dir);

} // namespace lathe::batch
