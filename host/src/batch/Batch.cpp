// SPDX-License-Identifier: GPL-3.0-or-later
#include "../chain/HeldAudio.h"
#include "../report/Svg.h"

#include <lathe/Analysis.h>
#include <lathe/AudioReader.h>
#include <lathe/Batch.h>
#include <lathe/Error.h>
#include <lathe/FileOutput.h>
#include <lathe/GainStage.h>
#include <lathe/JsonReport.h>
#include <lathe/Preset.h>
#include <lathe/RenderJob.h>
#include <lathe/Text.h>
#include <lathe/math/Dynamics.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <openssl/evp.h>
#include <sched.h>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace lathe::batch {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// List files name further inputs, one a line; deeper nesting than this is a loop.
constexpr int kMaxListDepth = 8;

bool isListFile(const fs::path& p) {
    const std::string ext = toLower(p.extension().string());
    return ext == ".txt" || ext == ".list" || ext == ".lst";
}

/// An absolute, normalised path: the manifest's key for an input.
std::string keyOf(const fs::path& p) {
    return fs::absolute(p).lexically_normal().string();
}

bool isInside(const fs::path& file, const fs::path& dir) {
    if (dir.empty()) {
        return false;
    }
    const fs::path f = fs::absolute(file).lexically_normal();
    const fs::path d = fs::absolute(dir).lexically_normal();
    const auto dEnd = std::mismatch(d.begin(), d.end(), f.begin(), f.end()).first;
    return dEnd == d.end() || (std::next(dEnd) == d.end() && dEnd->empty()); // "dir/" ends in ""
}

void addArgument(const fs::path& p, const fs::path& exclude, int depth, std::vector<Item>& out) {
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
        throw InputError(p, "does not exist");
    }
    if (fs::is_directory(st)) {
        for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            const fs::path& f = it->path();
            const std::string name = f.filename().string();
            if (!name.empty() && name[0] == '.') { // hidden: also Lathe's own temporary files
                if (it->is_directory(ec)) {
                    it.disable_recursion_pending();
                }
                continue;
            }
            if (!it->is_regular_file(ec) || !isAudioExtension(f) || isInside(f, exclude)) {
                continue;
            }
            out.push_back({f, f.lexically_relative(p).replace_extension()});
        }
        if (ec) {
            throw InputError(p, "cannot list the directory: " + ec.message());
        }
        return;
    }
    if (isListFile(p)) {
        if (depth >= kMaxListDepth) {
            throw UsageError(p.string() + ": list files nest more than " + std::to_string(kMaxListDepth) +
                             " deep (does one include itself?)");
        }
        std::ifstream in(p);
        if (!in) {
            throw InputError(p, "cannot read the list");
        }
        std::string line;
        while (std::getline(in, line)) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
                line.pop_back();
            }
            const auto start = line.find_first_not_of(" \t");
            if (start == std::string::npos || line[start] == '#') {
                continue;
            }
            fs::path entry(line.substr(start));
            if (entry.is_relative()) {
                entry = p.parent_path() / entry;
            }
            addArgument(entry, exclude, depth + 1, out);
        }
        return;
    }
    out.push_back({p, fs::path(p.filename()).replace_extension()});
}

std::string hex(const unsigned char* bytes, unsigned n) {
    static const char* digits = "0123456789abcdef";
    std::string s(2 * n, '0');
    for (unsigned i = 0; i < n; ++i) {
        s[2 * i] = digits[bytes[i] >> 4];
        s[2 * i + 1] = digits[bytes[i] & 15];
    }
    return s;
}

struct DigestDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

class Sha256 {
public:
    Sha256() : m_ctx(EVP_MD_CTX_new()) {
        if (!m_ctx || EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1) {
            throw Error(ErrorKind::Internal, "SHA-256 is unavailable (OpenSSL)");
        }
    }
    void add(const void* data, std::size_t n) { EVP_DigestUpdate(m_ctx.get(), data, n); }
    std::string hexDigest() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        EVP_DigestFinal_ex(m_ctx.get(), md, &n);
        return hex(md, n);
    }

private:
    std::unique_ptr<EVP_MD_CTX, DigestDeleter> m_ctx;
};

std::string utcNow() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string hostName() {
    char buf[256] = {};
    return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string();
}

json orNull(const std::optional<double>& v) {
    return v ? json(*v) : json();
}

/// The figures a row of the summary shows, from a loudness measurement.
json levels(const LoudnessResult& r) {
    return {{"integrated_lufs", orNull(r.integratedLufs)},
            {"true_peak_dbtp", r.truePeakDbtp ? json(r.truePeakDbtp->value) : json()},
            {"lra_lu", orNull(r.lraLu)},
            {"duration_s", r.durationSeconds}};
}

json findingsOf(const AnalysisResult& a) {
    json f = json::array();
    for (const Finding& x : a.findings) {
        f.push_back(
            {{"code", x.code}, {"severity", std::string(severityName(x.severity))}, {"title", x.title}});
    }
    return f;
}

/// The fields every manifest line starts with: which file, where its output goes, and the work.
json entryFor(const Item& item, const fs::path& output, const char* mode, const std::string& settingsSha,
              const std::string& shard, const std::string& host) {
    return {{"input", keyOf(item.input)},
            {"relative", item.relative.string()},
            {"output", keyOf(output)},
            {"mode", mode},
            {"settings_sha256", settingsSha},
            {"lathe_version", LATHE_VERSION},
            {"shard", shard},
            {"host", host}};
}

/// Appends manifest lines: one write() of the whole line (O_APPEND) and fdatasync, so a crash
/// leaves whole lines (and at worst a last one cut short, which readManifests skips).
class ManifestWriter {
public:
    explicit ManifestWriter(const fs::path& path) : m_path(path) {
        m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (m_fd < 0) {
            throw OutputError(path, std::string("cannot open the manifest: ") + std::strerror(errno));
        }
    }
    ~ManifestWriter() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    ManifestWriter(const ManifestWriter&) = delete;
    ManifestWriter& operator=(const ManifestWriter&) = delete;

    void append(const json& entry) {
        const std::string line = entry.dump() + "\n";
        std::lock_guard lock(m_mutex);
        std::size_t done = 0;
        while (done < line.size()) {
            const ssize_t n = ::write(m_fd, line.data() + done, line.size() - done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                throw OutputError(m_path, std::string("cannot append to the manifest: ") +
                                              std::strerror(n < 0 ? errno : ENOSPC));
            }
            done += static_cast<std::size_t>(n);
        }
        ::fdatasync(m_fd);
    }

private:
    fs::path m_path;
    int m_fd = -1;
    std::mutex m_mutex;
};

/// Removes the temporary files a killed earlier run left for `output` beside it: the output's own
/// (".NAME.lathe-XXXXXX") and the loudness targeting's intermediate (".STEM.lathe-prelimiter.PID.wav"
/// and its temporary). Only this process renders this output (shards are disjoint), so none is in use.
void removeStaleTemporaries(const fs::path& output) {
    std::string own = ".";
    own += output.filename().string();
    own += ".lathe-";
    std::string intermediate = ".";
    intermediate += output.stem().string();
    intermediate += ".lathe-prelimiter.";
    const std::string intermediateTemp = "." + intermediate;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(output.parent_path(), ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(own, 0) == 0 || name.rfind(intermediate, 0) == 0 ||
            name.rfind(intermediateTemp, 0) == 0) {
            fs::remove(e.path(), ec);
        }
    }
}

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) {
        return s;
    }
    std::string q = "\"";
    for (char c : s) {
        q += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    return q + "\"";
}

std::string number(const json& v, int decimals) {
    return v.is_number() ? formatFixed(v.get<double>(), decimals) : std::string();
}

std::string findingsText(const json& e) {
    std::string s;
    if (e.contains("findings") && e["findings"].is_array()) {
        for (const auto& f : e["findings"]) {
            if (f.value("severity", "") == "info") {
                continue;
            }
            s += (s.empty() ? "" : "; ") + f.value("code", "") + " (" + f.value("severity", "") + ")";
        }
    }
    return s;
}

json at(const json& e, const char* section, const char* field) {
    return e.contains(section) && e[section].is_object() && e[section].contains(field) ? e[section][field]
                                                                                       : json();
}

/// fn(k) for every k in [0, n) on `jobs` threads. A CancelledError (or a cancelled token) stops
/// the taking of new indices everywhere and is rethrown after all threads have stopped, as is the
/// first other exception.
void forEachParallel(std::size_t n, unsigned jobs, const CancelToken* cancel,
                     const std::function<void(std::size_t)>& fn) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::exception_ptr first;
    auto worker = [&] {
        for (;;) {
            if (stop.load() || (cancel != nullptr && cancel->cancelled())) {
                stop.store(true);
                return;
            }
            const std::size_t k = next.fetch_add(1);
            if (k >= n) {
                return;
            }
            try {
                fn(k);
            } catch (...) {
                std::lock_guard lock(mutex);
                if (!first) {
                    first = std::current_exception();
                }
                stop.store(true);
                return;
            }
        }
    };
    std::vector<std::thread> threads;
    for (unsigned j = 1; j < std::max(1u, std::min<unsigned>(jobs, static_cast<unsigned>(n))); ++j) {
        threads.emplace_back(worker);
    }
    worker();
    for (auto& t : threads) {
        t.join();
    }
    if (first) {
        std::rethrow_exception(first);
    }
    if (cancel != nullptr && cancel->cancelled()) {
        throw CancelledError();
    }
}

/// Each octave band's share of a song's power (dB re its total), from the channels' long-term
/// spectra (the M/S curves left out); NaN where a band is above Nyquist or silent.
std::vector<double> bandBalance(const AnalysisResult& a) {
    const LongTermSpectrum& s = a.spectrum;
    const std::vector<double> centres = octaveBandCentres();
    const int channels = std::max(1, a.loudness.channels);
    const double total = bandPower(s, channels, 0.0, s.sampleRate);
    std::vector<double> db(centres.size(), std::nan(""));
    for (std::size_t k = 0; k < centres.size(); ++k) {
        const double band = bandPower(s, channels, centres[k] / std::sqrt(2.0), centres[k] * std::sqrt(2.0));
        if (total > 0.0 && band > 0.0 && centres[k] * std::sqrt(2.0) <= s.sampleRate / 2.0) {
            db[k] = 10.0 * std::log10(band / total);
        }
    }
    return db;
}

} // namespace

json albumConsistency(const std::vector<std::string>& names, const std::vector<AnalysisResult>& songs) {
    const std::vector<double> centres = octaveBandCentres();
    std::vector<std::vector<double>> balance;
    std::vector<double> loudness;
    for (const AnalysisResult& a : songs) {
        balance.push_back(bandBalance(a));
        if (a.loudness.integratedLufs) {
            loudness.push_back(*a.loudness.integratedLufs);
        }
    }
    std::vector<double> sorted = loudness;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted.empty() ? 0.0
                          : sorted.size() % 2 == 1
                              ? sorted[sorted.size() / 2]
                              : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
    // The album's mean balance and each band's spread, over the songs that have the band.
    std::vector<double> mean(centres.size(), 0.0);
    std::vector<double> low(centres.size(), INFINITY);
    std::vector<double> high(centres.size(), -INFINITY);
    std::vector<int> count(centres.size(), 0);
    for (const auto& b : balance) {
        for (std::size_t k = 0; k < centres.size(); ++k) {
            if (!std::isnan(b[k])) {
                mean[k] += b[k];
                low[k] = std::min(low[k], b[k]);
                high[k] = std::max(high[k], b[k]);
                ++count[k];
            }
        }
    }
    json bands = json::array();
    for (std::size_t k = 0; k < centres.size(); ++k) {
        mean[k] = count[k] > 0 ? mean[k] / count[k] : std::nan("");
        if (count[k] > 0) {
            bands.push_back(
                {{"hz", centres[k]}, {"album_mean_db", mean[k]}, {"spread_db", high[k] - low[k]}});
        }
    }
    json out;
    out["songs"] = json::array();
    out["outliers"] = json::array();
    for (std::size_t i = 0; i < songs.size(); ++i) {
        json s;
        s["name"] = names[i];
        const auto& l = songs[i].loudness.integratedLufs;
        s["integrated_lufs"] = orNull(l);
        s["true_peak_dbtp"] =
            songs[i].loudness.truePeakDbtp ? json(songs[i].loudness.truePeakDbtp->value) : json();
        double sum = 0.0;
        int n = 0;
        for (std::size_t k = 0; k < centres.size(); ++k) {
            if (!std::isnan(balance[i][k]) && !std::isnan(mean[k])) {
                sum += (balance[i][k] - mean[k]) * (balance[i][k] - mean[k]);
                ++n;
            }
        }
        const double deviation = n > 0 ? std::sqrt(sum / n) : 0.0;
        s["balance_deviation_db"] = deviation;
        json flags = json::array();
        if (l) {
            s["from_median_lu"] = *l - median;
            if (std::abs(*l - median) > kAlbumLoudnessOutlierLu) {
                flags.push_back(std::string(*l > median ? "louder" : "quieter") + " than the rest by " +
                                formatFixed(std::abs(*l - median), 1) + " LU");
            }
        }
        if (deviation > kAlbumBalanceOutlierDb) {
            flags.push_back("tonal balance " + formatFixed(deviation, 1) + " dB from the album's");
        }
        s["flags"] = flags;
        if (!flags.empty()) {
            out["outliers"].push_back(names[i]);
        }
        out["songs"].push_back(s);
    }
    out["loudness_spread_lu"] = sorted.empty() ? json() : json(sorted.back() - sorted.front());
    out["loudness_median_lufs"] = sorted.empty() ? json() : json(median);
    out["bands"] = bands;
    return out;
}

bool isAudioExtension(const fs::path& path) {
    static const std::set<std::string> kAudio = {".wav",  ".wave", ".rf64", ".bwf", ".w64", ".flac", ".aif",
                                                 ".aiff", ".aifc", ".caf",  ".ogg", ".oga", ".opus", ".mp3"};
    return kAudio.count(toLower(path.extension().string())) > 0;
}

std::vector<Item> discover(const std::vector<fs::path>& inputs, const fs::path& exclude) {
    std::vector<Item> items;
    for (const fs::path& p : inputs) {
        addArgument(p, exclude, 0, items);
    }
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
        return a.relative != b.relative ? a.relative < b.relative : a.input < b.input;
    });
    std::vector<Item> unique;
    for (const Item& it : items) {
        if (!unique.empty() && unique.back().relative == it.relative) {
            std::error_code ec;
            if (fs::equivalent(unique.back().input, it.input, ec)) {
                continue; // the same file named twice
            }
            throw UsageError("two inputs would write the same output \"" + it.relative.string() +
                             "\": " + unique.back().input.string() + " and " + it.input.string());
        }
        unique.push_back(it);
    }
    if (unique.empty()) {
        throw UsageError("no audio files among the inputs (looked for: wav, rf64, w64, flac, aiff, caf, ogg, "
                         "opus, mp3)");
    }
    return unique;
}

Shard parseShard(const std::string& text) {
    const auto slash = text.find('/');
    Shard s;
    try {
        if (slash == std::string::npos) {
            throw std::invalid_argument("no slash");
        }
        std::size_t used = 0;
        s.index = std::stoi(text.substr(0, slash), &used);
        if (used != slash) {
            throw std::invalid_argument("index");
        }
        const std::string n = text.substr(slash + 1);
        s.count = std::stoi(n, &used);
        if (used != n.size()) {
            throw std::invalid_argument("count");
        }
    } catch (const std::exception&) {
        throw UsageError("--shard takes I/N, e.g. 0/4 (shards are numbered 0 to N-1), not \"" + text + "\"");
    }
    if (s.count < 1 || s.index < 0 || s.index >= s.count) {
        throw UsageError("--shard " + text + ": needs 0 <= I < N");
    }
    return s;
}

std::vector<Item> select(const std::vector<Item>& items, Shard shard) {
    std::vector<Item> mine;
    for (std::size_t k = 0; k < items.size(); ++k) {
        if (static_cast<int>(k % static_cast<std::size_t>(shard.count)) == shard.index) {
            mine.push_back(items[k]);
        }
    }
    return mine;
}

std::string sha256OfFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw InputError(path, "cannot be opened for reading");
    }
    Sha256 h;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        h.add(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) {
        throw InputError(path, "read error");
    }
    return h.hexDigest();
}

std::string sha256OfText(const std::string& text) {
    Sha256 h;
    h.add(text.data(), text.size());
    return h.hexDigest();
}

fs::path manifestPath(const fs::path& dir, Shard shard) {
    if (shard.count == 1) {
        return dir / "manifest.jsonl";
    }
    return dir / ("manifest.shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count) +
                  ".jsonl");
}

std::vector<json> readManifests(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("manifest", 0) == 0 && e.path().extension() == ".jsonl") {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    // The last line per input wins; between files, the later finish time.
    std::map<std::string, json> latest;
    for (const fs::path& f : files) {
        std::ifstream in(f);
        std::string line;
        while (std::getline(in, line)) {
            json e = json::parse(line, nullptr, false);
            if (e.is_discarded() || !e.is_object() || !e.contains("input") || !e["input"].is_string()) {
                continue;
            }
            const std::string key = e["input"].get<std::string>();
            auto it = latest.find(key);
            if (it == latest.end() || e.value("finished_utc", "") >= it->second.value("finished_utc", "")) {
                latest[key] = std::move(e);
            }
        }
    }
    std::vector<json> out;
    for (auto& [k, v] : latest) {
        out.push_back(std::move(v));
    }
    return out;
}

unsigned availableCpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        return static_cast<unsigned>(CPU_COUNT(&set));
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

std::string_view statusName(Status s) {
    switch (s) {
    case Status::Done:
        return "done";
    case Status::Skipped:
        return "skipped";
    case Status::Failed:
        return "failed";
    }
    return "failed";
}

std::string settingsHash(const Settings& s) {
    const MasterSettings& m = s.master;
    json j;
    j["lathe_version"] = LATHE_VERSION;
    j["mode"] = s.analyzeOnly ? "analyze" : "master";
    if (!s.analyzeOnly) {
        j["preset"] = toJson(m.preset);
        j["target"] =
            m.target ? json{{"lufs", m.target->lufs}, {"ceiling_dbtp", m.target->ceilingDbtp}} : json();
        j["format"] = m.format ? json(std::string(sampleFormatName(*m.format))) : json();
        j["container"] = m.container ? json(std::string(containerName(*m.container))) : json();
        j["rate"] = m.sampleRate ? json(*m.sampleRate) : json();
        j["dither"] = static_cast<int>(m.dither);
        j["seed"] = m.ditherSeed;
        j["tail"] = static_cast<int>(m.tail);
        j["non_finite"] = static_cast<int>(m.nonFinite);
        j["extension"] = s.outputExtension;
    }
    j["strict"] = m.reader.strict;
    j["layout"] = m.reader.layout ? json(m.reader.layout->name()) : json();
    return sha256OfText(j.dump());
}

namespace {

/// Album mode (Settings::album): every song mastered without a target into a float scratch file,
/// one album gain from the songs' loudness gated together, the gain applied to every song.
std::vector<ItemResult>
runAlbum(const Settings& settings, const std::vector<Item>& items,
         const std::map<std::string, json>& previous, const std::string& settingsSha,
         ManifestWriter& manifest, const std::string& host, unsigned jobs, unsigned threadsEach,
         const std::shared_ptr<design::DesignCache>& designs, Backend& backend, const JobControl& control,
         const std::function<void(const ItemResult&, std::size_t, std::size_t)>& onItem) {
    const std::size_t n = items.size();
    std::vector<ItemResult> results(n);
    std::mutex mutex;
    std::size_t finished = 0;
    auto report = [&](std::size_t k) {
        std::lock_guard lock(mutex);
        ++finished;
        if (onItem) {
            onItem(results[k], finished, n);
        }
    };
    auto outputOf = [&](const Item& it) {
        return settings.outputDir / fs::path(it.relative.string() + "." + settings.outputExtension);
    };
    // The album is one piece of work: its hash covers every song's content, so a change to any
    // song (or one added) redoes them all, and a rerun of an unchanged album skips them all.
    std::vector<std::string> inputSha(n);
    std::string all = settingsSha + "|album";
    for (std::size_t k = 0; k < n; ++k) {
        try {
            inputSha[k] = sha256OfFile(items[k].input);
        } catch (const Error&) {
            inputSha[k].clear(); // fails below, with the reader's own message
        }
        all += "|" + keyOf(items[k].input) + "=" + inputSha[k];
    }
    const std::string albumSha = sha256OfText(all);
    bool allDone = true;
    for (std::size_t k = 0; k < n && allDone; ++k) {
        const auto it = previous.find(keyOf(items[k].input));
        std::error_code ec;
        const auto size = fs::file_size(outputOf(items[k]), ec);
        allDone = it != previous.end() && it->second.value("status", "") == "done" &&
                  it->second.value("settings_sha256", "") == albumSha && !ec &&
                  it->second.contains("output_bytes") && it->second["output_bytes"] == size;
    }
    if (allDone) {
        for (std::size_t k = 0; k < n; ++k) {
            results[k].item = items[k];
            results[k].status = Status::Skipped;
            results[k].entry = previous.at(keyOf(items[k].input));
            report(k);
        }
        return results;
    }
    const fs::path scratch = settings.outputDir / ".lathe-album";
    std::error_code ec;
    fs::remove_all(scratch, ec); // a killed run's
    fs::create_directories(scratch, ec);
    if (ec) {
        throw OutputError(scratch, "cannot create the album's scratch folder: " + ec.message());
    }
    struct RemoveOnExit {
        fs::path dir;
        ~RemoveOnExit() {
            std::error_code e;
            fs::remove_all(dir, e);
        }
    } removeScratch{scratch};
    struct Song {
        bool ok = false;
        json entry;
        AnalysisResult before;
        LoudnessResult mastered;
        fs::path scratchFile;
        double seconds = 0; ///< wall time of both phases
    };
    std::vector<Song> songs(n);
    JobControl jc;
    jc.cancel = control.cancel;
    jc.progress = control.progress;
    auto fail = [&](std::size_t k, const std::string& why) {
        json& e = songs[k].entry;
        e["status"] = "failed";
        e["error"] = why;
        e["finished_utc"] = utcNow();
        results[k].status = Status::Failed;
        results[k].error = why;
        results[k].entry = e;
        manifest.append(e);
        report(k);
    };
    // 1. Each song through the preset, without a target of its own, into a float scratch file.
    forEachParallel(n, jobs, control.cancel, [&](std::size_t k) {
        const Item& item = items[k];
        results[k].item = item;
        Song& s = songs[k];
        const auto t0 = std::chrono::steady_clock::now();
        json& e = s.entry;
        e = entryFor(item, outputOf(item), "album", albumSha, "0/1", host);
        e["input_sha256"] = inputSha[k];
        try {
            AnalysisOptions ao;
            ao.loudness.reader = settings.master.reader;
            ao.loudness.threads = threadsEach;
            s.before = analyzeFile(item.input, ao, backend, jc);
            e["input_bytes"] = fs::file_size(item.input);
            e["before"] = levels(s.before.loudness);
            e["findings"] = findingsOf(s.before);
            MasterSettings m = settings.master;
            m.target.reset();
            m.preset.targetLufs.reset();
            m.format = SampleFormat::Float32;
            m.container = Container::Wav;
            m.dither = DitherMode::Off;
            m.threads = threadsEach;
            m.designs = designs;
            s.scratchFile = scratch / (std::to_string(k) + ".wav");
            masterFile(item.input, s.scratchFile, m, backend, jc);
            LoudnessOptions lo;
            lo.threads = threadsEach;
            s.mastered = measureLoudness(s.scratchFile, lo, backend, jc);
            s.ok = true;
            s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        } catch (const CancelledError&) {
            throw;
        } catch (const Error& x) {
            fail(k, x.what());
        }
    });
    // 2. One gain: the album's loudness (every song's blocks gated together) to the target, but
    //    never pushing the loudest true peak over the ceiling.
    std::vector<LoudnessResult> mastered;
    for (const Song& s : songs) {
        if (s.ok) {
            mastered.push_back(s.mastered);
        }
    }
    json album;
    const AlbumLoudness before = albumLoudness(mastered);
    std::optional<double> target = settings.master.preset.targetLufs;
    double ceiling = -1.0;
    if (settings.master.target) {
        target = settings.master.target->lufs;
        ceiling = settings.master.target->ceilingDbtp;
    }
    double gainDb = 0.0;
    std::string note;
    if (target && before.integratedLufs) {
        gainDb = *target - *before.integratedLufs;
        double loudestPeak = -INFINITY;
        for (const LoudnessResult& r : mastered) {
            if (r.truePeakDbtp) {
                loudestPeak = std::max(loudestPeak, r.truePeakDbtp->value);
            }
        }
        if (loudestPeak + gainDb > ceiling) {
            const double reachable = ceiling - loudestPeak;
            note = "the album gain stops at " + formatFixed(reachable, 2) + " dB (" +
                   formatFixed(gainDb - reachable, 2) +
                   " dB short of the target), where the loudest song's true " + "peak meets the " +
                   formatFixed(ceiling, 1) + " dBTP ceiling: a limiter in the preset (or a " +
                   "lower target) would reach it";
            gainDb = reachable;
        }
    } else if (target) {
        note = "no album loudness to normalise (" + before.note + "): gain 0 dB";
    }
    album["target_lufs"] = orNull(target);
    album["ceiling_dbtp"] = ceiling;
    album["album_lufs_before_gain"] = orNull(before.integratedLufs);
    album["gain_db"] = gainDb;
    album["note"] = note.empty() ? json() : json(note);
    // 3. The gain on every song, into its output (format and dither as a master's).
    std::vector<AnalysisResult> after(n);
    forEachParallel(n, jobs, control.cancel, [&](std::size_t k) {
        Song& s = songs[k];
        if (!s.ok) {
            return;
        }
        const auto t0 = std::chrono::steady_clock::now();
        json& e = s.entry;
        try {
            const fs::path output = outputOf(items[k]);
            fs::create_directories(output.parent_path());
            removeStaleTemporaries(output);
            AudioReader reader(s.scratchFile);
            std::vector<std::unique_ptr<Stage>> stages;
            stages.push_back(std::make_unique<GainStage>(gainDb, "album-gain"));
            RenderOptions o = resolveMasterOptions(s.before.file, output, settings.master);
            o.tail = TailPolicy::Keep; // the scratch file already has the length the tail policy gave it
            const RenderReport r = render(reader, std::move(stages), output, o, backend, jc);
            AnalysisOptions ao;
            ao.loudness.threads = threadsEach;
            after[k] = analyzeFile(output, ao, backend, jc);
            e["after"] = levels(after[k].loudness);
            e["album_gain_db"] = gainDb;
            e["warnings"] = r.warnings;
            e["output_sha256"] = sha256OfFile(output);
            e["output_bytes"] = fs::file_size(output);
            e["status"] = "done";
            e["error"] = nullptr;
            e["seconds"] =
                s.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            e["finished_utc"] = utcNow();
            results[k].status = Status::Done;
            results[k].entry = e;
            manifest.append(e);
            report(k);
        } catch (const CancelledError&) {
            throw;
        } catch (const Error& x) {
            fail(k, x.what());
        }
    });
    // 4. The album's consistency, over the songs that made it.
    std::vector<std::string> names;
    std::vector<AnalysisResult> done;
    std::vector<LoudnessResult> finals;
    for (std::size_t k = 0; k < n; ++k) {
        if (results[k].status == Status::Done) {
            names.push_back(items[k].relative.string());
            done.push_back(after[k]);
            finals.push_back(after[k].loudness);
        }
    }
    json consistency = albumConsistency(names, done);
    consistency["album"] = album;
    consistency["album"]["album_lufs"] = orNull(albumLoudness(finals).integratedLufs);
    writeFileAtomically(settings.outputDir / "album.json", consistency.dump(2) + "\n");
    return results;
}

} // namespace

Summary run(const Settings& settings, Backend& backend, const JobControl& control,
            const std::function<void(const ItemResult&, std::size_t, std::size_t)>& onItem) {
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    fs::create_directories(settings.outputDir, ec);
    if (ec || !fs::is_directory(settings.outputDir)) {
        throw OutputError(settings.outputDir,
                          "cannot create the output directory" + (ec ? ": " + ec.message() : ""));
    }
    if (settings.album && settings.shard.count > 1) {
        throw UsageError(
            "--album masters the whole album in one run (one gain for all songs): it cannot be sharded");
    }
    if (settings.album && settings.analyzeOnly) {
        throw UsageError("--album masters an album; for its loudness alone use lathe analyze FILES…");
    }
    const std::vector<Item> items = select(discover(settings.inputs, settings.outputDir), settings.shard);
    std::map<std::string, json> previous;
    for (json& e : readManifests(settings.outputDir)) {
        const std::string key = e["input"].get<std::string>(); // before the move below
        previous[key] = std::move(e);
    }
    const std::string settingsSha = settingsHash(settings);
    ManifestWriter manifest(manifestPath(settings.outputDir, settings.shard));
    const std::string shardText =
        std::to_string(settings.shard.index) + "/" + std::to_string(settings.shard.count);
    const std::string host = hostName();

    // `jobs` cores in all, as make -j: that many files at once, each engine on one thread (files
    // side by side need no per-block synchronisation, so this is the most work per core); fewer
    // files than jobs share the cores out.
    const unsigned cores = settings.jobs > 0 ? settings.jobs : availableCpus();
    const unsigned jobs = std::max(1u, std::min<unsigned>(cores, static_cast<unsigned>(items.size())));
    const unsigned threadsEach = std::max(1u, cores / jobs);
    // The files side by side share the memory a targeted master may hold its intermediate in.
    const std::uint64_t intermediateEach =
        detail::intermediateMemoryBudget(settings.master.intermediateMemoryBytes) / jobs;
    // Every file's master designs the preset's EQ and crossover at its rate: each is made once.
    const auto designs = std::make_shared<design::DesignCache>();
    Summary summary;
    summary.items.resize(items.size());
    auto finish = [&] {
        for (const ItemResult& r : summary.items) {
            ++(r.status == Status::Done      ? summary.done
               : r.status == Status::Skipped ? summary.skipped
                                             : summary.failed);
        }
        summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return summary;
    };
    if (settings.album) {
        summary.items = runAlbum(settings, items, previous, settingsSha, manifest, host, jobs, threadsEach,
                                 designs, backend, control, onItem);
        return finish();
    }
    std::mutex reportMutex;
    std::size_t finished = 0;

    auto work = [&](const Item& item, ItemResult& result) {
        result.item = item;
        const auto t0 = std::chrono::steady_clock::now();
        const fs::path output =
            settings.outputDir /
            fs::path(item.relative.string() + "." +
                     (settings.analyzeOnly ? std::string("json") : settings.outputExtension));
        json e =
            entryFor(item, output, settings.analyzeOnly ? "analyze" : "master", settingsSha, shardText, host);
        try {
            const std::string inputSha = sha256OfFile(item.input);
            e["input_sha256"] = inputSha;
            e["input_bytes"] = fs::file_size(item.input);
            if (auto it = previous.find(keyOf(item.input)); it != previous.end()) {
                const json& p = it->second;
                std::error_code sizeEc;
                const auto size = fs::file_size(output, sizeEc);
                if (p.value("status", "") == "done" && p.value("input_sha256", "") == inputSha &&
                    p.value("settings_sha256", "") == settingsSha && p.value("output", "") == keyOf(output) &&
                    !sizeEc && p.contains("output_bytes") && p["output_bytes"] == size) {
                    result.status = Status::Skipped;
                    result.entry = p;
                    return;
                }
            }
            fs::create_directories(output.parent_path());
            removeStaleTemporaries(output);
            JobControl jc;
            jc.cancel = control.cancel;
            jc.progress = control.progress; // from this job's thread
            AnalysisOptions ao;
            ao.loudness.reader = settings.master.reader;
            ao.loudness.threads = threadsEach;
            const AnalysisResult before = analyzeFile(item.input, ao, backend, jc);
            e["before"] = levels(before.loudness);
            e["findings"] = findingsOf(before);
            if (settings.analyzeOnly) {
                writeFileAtomically(output, toJson(before, false).dump(2) + "\n");
            } else {
                MasterSettings m = settings.master;
                m.threads = threadsEach;
                m.intermediateMemoryBytes = intermediateEach;
                m.designs = designs;
                TargetingReport targeting;
                const RenderReport r = masterFile(item.input, output, m, backend, jc, &targeting);
                LoudnessOptions lo;
                lo.threads = threadsEach;
                const LoudnessResult after = measureLoudness(output, lo, backend, jc);
                e["after"] = levels(after);
                e["output_sha256"] = sha256OfFile(output);
                e["warnings"] = r.warnings;
                if (settings.master.target) {
                    e["target_reached"] = targeting.reached;
                }
            }
            e["output_bytes"] = fs::file_size(output);
            e["status"] = "done";
            e["error"] = nullptr;
            result.status = Status::Done;
        } catch (const CancelledError&) {
            throw;
        } catch (const Error& x) {
            e["status"] = "failed";
            e["error"] = x.what();
            result.status = Status::Failed;
            result.error = x.what();
        } catch (const fs::filesystem_error& x) { // a folder that cannot be made, a file that vanished
            e["status"] = "failed";
            e["error"] = x.what();
            result.status = Status::Failed;
            result.error = x.what();
        } catch (const std::bad_alloc&) {
            e["status"] = "failed";
            e["error"] = "out of memory";
            result.status = Status::Failed;
            result.error = "out of memory";
        } catch (const std::exception& x) {
            e["status"] = "failed";
            e["error"] = std::string("internal error: ") + x.what();
            result.status = Status::Failed;
            result.error = e["error"].get<std::string>();
        }
        e["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        e["finished_utc"] = utcNow();
        result.entry = e;
        manifest.append(e);
    };

    // A file's own failure is in its result; what escapes `work` (cancellation, a manifest that
    // cannot be written) stops the batch.
    forEachParallel(items.size(), jobs, control.cancel, [&](std::size_t k) {
        work(items[k], summary.items[k]);
        std::lock_guard lock(reportMutex);
        ++finished;
        if (onItem) {
            onItem(summary.items[k], finished, items.size());
        }
    });
    return finish();
}

std::vector<json> writeSummary(const fs::path& dir) {
    std::vector<json> entries = readManifests(dir);
    std::ostringstream csv;
    csv << "input,output,status,error,before_lufs,before_true_peak_dbtp,before_lra_lu,after_lufs,"
           "after_true_peak_dbtp,after_lra_lu,duration_s,findings,seconds\n";
    std::size_t done = 0;
    std::size_t failed = 0;
    double audioSeconds = 0;
    double wallSeconds = 0;
    std::ostringstream rows;
    for (const json& e : entries) {
        const std::string status = e.value("status", "");
        (status == "done" ? done : failed)++;
        if (at(e, "before", "duration_s").is_number()) {
            audioSeconds += at(e, "before", "duration_s").get<double>();
        }
        wallSeconds += e.value("seconds", 0.0);
        const std::string error =
            e.contains("error") && e["error"].is_string() ? e["error"].get<std::string>() : "";
        const std::string output = status == "done" ? e.value("output", "") : "";
        csv << csvField(e.value("input", "")) << ',' << csvField(output) << ',' << status << ','
            << csvField(error) << ',' << number(at(e, "before", "integrated_lufs"), 2) << ','
            << number(at(e, "before", "true_peak_dbtp"), 2) << ',' << number(at(e, "before", "lra_lu"), 1)
            << ',' << number(at(e, "after", "integrated_lufs"), 2) << ','
            << number(at(e, "after", "true_peak_dbtp"), 2) << ',' << number(at(e, "after", "lra_lu"), 1)
            << ',' << number(at(e, "before", "duration_s"), 3) << ',' << csvField(findingsText(e)) << ','
            << number(e.value("seconds", json()), 2) << '\n';
        rows << "<tr class=\"" << (status == "done" ? "ok" : "bad") << "\"><td>"
             << report::xmlEscape(e.value("relative", "")) << "</td><td>" << status << "</td><td>"
             << number(at(e, "before", "integrated_lufs"), 1) << "</td><td>"
             << number(at(e, "before", "true_peak_dbtp"), 1) << "</td><td>"
             << number(at(e, "after", "integrated_lufs"), 1) << "</td><td>"
             << number(at(e, "after", "true_peak_dbtp"), 1) << "</td><td>"
             << report::xmlEscape(formatDuration(at(e, "before", "duration_s").is_number()
                                                     ? at(e, "before", "duration_s").get<double>()
                                                     : 0.0))
             << "</td><td>" << report::xmlEscape(error.empty() ? findingsText(e) : error) << "</td></tr>\n";
    }
    std::ostringstream albumHtml;
    if (std::ifstream in(dir / "album.json"); in) {
        const json a = json::parse(in, nullptr, false);
        if (a.is_object() && a.contains("album")) {
            const json& g = a["album"];
            albumHtml << "<h2>Album</h2>\n<p>One gain for every song: "
                      << number(g.value("gain_db", json()), 2) << " dB; album loudness "
                      << number(g.value("album_lufs_before_gain", json()), 2) << " → "
                      << number(g.value("album_lufs", json()), 2) << " LUFS (target "
                      << number(g.value("target_lufs", json()), 1) << "); loudness spread between songs "
                      << number(a.value("loudness_spread_lu", json()), 1) << " LU (kept as it was).";
            if (g.contains("note") && g["note"].is_string()) {
                albumHtml << " " << report::xmlEscape(g["note"].get<std::string>()) << ".";
            }
            albumHtml << "</p>\n<table><tr><th>song</th><th>LUFS</th><th>from the median</th><th>balance vs "
                         "album</th>"
                         "<th>stands out</th></tr>\n";
            for (const auto& s : a.value("songs", json::array())) {
                std::string flags;
                for (const auto& f : s.value("flags", json::array())) {
                    flags += (flags.empty() ? "" : "; ") + f.get<std::string>();
                }
                albumHtml << "<tr class=\"" << (flags.empty() ? "ok" : "bad") << "\"><td>"
                          << report::xmlEscape(s.value("name", "")) << "</td><td>"
                          << number(s.value("integrated_lufs", json()), 1) << "</td><td>"
                          << number(s.value("from_median_lu", json()), 1) << " LU</td><td>"
                          << number(s.value("balance_deviation_db", json()), 1) << " dB</td><td>"
                          << report::xmlEscape(flags) << "</td></tr>\n";
            }
            albumHtml << "</table>\n";
        }
    }
    std::ostringstream html;
    html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Lathe batch "
            "summary</title>"
            "<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
            "td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}td:nth-child(n+3){"
            "font-variant-numeric:tabular-nums}tr.bad td{background:#fde8e8}th{background:#f4f4f4}</style>"
            "</head><body>\n<h1>Lathe batch summary</h1>\n<p>"
         << entries.size() << " files: " << done << " done, " << failed << " failed; "
         << formatFixed(audioSeconds / 3600.0, 2) << " h of audio in " << formatFixed(wallSeconds / 3600.0, 2)
         << " h of processing (summed over files). Written by Lathe " << LATHE_VERSION << " at " << utcNow()
         << ".</p>\n<table><tr><th>file</th><th>status</th><th>before LUFS</th><th>before dBTP</th>"
            "<th>after LUFS</th><th>after dBTP</th><th>duration</th><th>findings / error</th></tr>\n"
         << rows.str() << "</table>\n"
         << albumHtml.str() << "</body></html>\n";
    writeFileAtomically(dir / "summary.csv", csv.str());
    writeFileAtomically(dir / "summary.html", html.str());
    return entries;
}

} // namespace lathe::batch
