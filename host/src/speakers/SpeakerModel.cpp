// Lathe: speaker models — parsing, the built-in set, response, and the stages that render one.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "../core/JsonFields.h"

#include <lathe/AudioReader.h>
#include <lathe/Batch.h>
#include <lathe/ConvolutionStage.h>
#include <lathe/Error.h>
#include <lathe/Speakers.h>
#include <lathe/Text.h>
#include <lathe/math/Dynamics.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

namespace lathe {
namespace detail {
const std::vector<std::pair<const char*, const char*>>& builtinSpeakerTexts(); // SpeakersData.cpp (generated)
} // namespace detail

namespace {

using Json = nlohmann::json;
using detail::JsonFields;

const std::vector<int> kSlopes = {6, 12, 18, 24, 36, 48};
/// Responses are written between 1 Hz and 100 kHz with gains within ±60 dB: anything else is a
/// typo (kHz for Hz, a linear gain for dB), not a loudspeaker.
constexpr double kLowestHz = 1.0;
constexpr double kHighestHz = 100000.0;
constexpr double kLargestGainDb = 60.0;

std::optional<SpeakerCut> parseCut(JsonFields& f, const std::string& key, const std::string& prefix) {
    const Json* v = f.raw(key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    JsonFields c(*v, prefix + key + " ");
    SpeakerCut cut;
    cut.hz = c.number("hz", std::nan(""), kLowestHz, kHighestHz);
    if (std::isnan(cut.hz)) {
        c.fail("hz", "is required");
    }
    const double slope = c.number("slope_db_per_octave", 12.0, 6.0, 48.0);
    if (std::find(kSlopes.begin(), kSlopes.end(), static_cast<int>(slope)) == kSlopes.end() ||
        slope != std::floor(slope)) {
        c.fail("slope_db_per_octave",
               JsonFields::formatNumber(slope) + " is not one of 6, 12, 18, 24, 36, 48");
    }
    cut.slopeDbPerOctave = static_cast<int>(slope);
    c.finish();
    return cut;
}

void checkResponse(const std::vector<design::EqCurvePoint>& points, const std::string& prefix) {
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto& p = points[i];
        if (!(p.hz >= kLowestHz && p.hz <= kHighestHz)) {
            throw UsageError(prefix + "response point " + std::to_string(i + 1) + ": " +
                             formatFixed(p.hz, 3) + " Hz is outside 1 Hz – 100 kHz");
        }
        if (!(std::fabs(p.gainDb) <= kLargestGainDb)) {
            throw UsageError(prefix + "response point " + std::to_string(i + 1) + ": " +
                             formatFixed(p.gainDb, 2) + " dB is outside ±60 dB");
        }
        if (i > 0 && !(p.hz > points[i - 1].hz)) {
            throw UsageError(prefix + "response point " + std::to_string(i + 1) +
                             ": frequencies must ascend (" + formatFixed(p.hz, 3) + " Hz after " +
                             formatFixed(points[i - 1].hz, 3) + " Hz)");
        }
    }
}

bool validId(const std::string& id) {
    static const std::regex re("[a-z0-9][a-z0-9-]{0,39}");
    return std::regex_match(id, re);
}

std::string readText(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw InputError(file, "cannot open the speaker model");
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The stem of a file as a model id: lower case, other characters as '-'.
std::string idFromStem(const std::filesystem::path& file) {
    std::string id;
    for (char ch : toLower(file.stem().string())) {
        id += (std::isalnum(static_cast<unsigned char>(ch)) != 0) ? ch : '-';
    }
    return id.empty() ? std::string("model") : id.substr(0, 40);
}

} // namespace

SpeakerModel parseSpeakerCsv(const std::string& text, const std::filesystem::path& file) {
    SpeakerModel m;
    m.id = idFromStem(file);
    m.name = file.stem().string();
    m.description = "measured response";
    m.rationale = "measured response read from " + file.filename().string();
    m.origin = file.string();
    std::istringstream in(text);
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        const auto hash = line.find('#');
        if (hash != std::string::npos) {
            line.resize(hash);
        }
        std::replace(line.begin(), line.end(), ';', ',');
        std::replace(line.begin(), line.end(), '\t', ',');
        if (line.find_first_not_of(" \r,") == std::string::npos) {
            continue;
        }
        std::istringstream fields(line);
        std::string a;
        std::string b;
        std::getline(fields, a, ',');
        std::getline(fields, b, ',');
        char* end = nullptr;
        const double hz = std::strtod(a.c_str(), &end);
        const bool numberA =
            end != a.c_str() &&
            a.find_first_not_of(" \r", static_cast<std::size_t>(end - a.c_str())) == std::string::npos;
        end = nullptr;
        const double db = std::strtod(b.c_str(), &end);
        const bool numberB =
            end != b.c_str() &&
            b.find_first_not_of(" \r", static_cast<std::size_t>(end - b.c_str())) == std::string::npos;
        if (!numberA || !numberB) {
            if (m.response.empty() && lineNo == 1) {
                continue; // a header ("Hz,dB")
            }
            throw UsageError(file.string() + ": line " + std::to_string(lineNo) +
                             ": expected two numbers 'hz,db', got '" + line + "'");
        }
        m.response.push_back({hz, db});
    }
    if (m.response.size() < 2) {
        throw UsageError(file.string() + ": a measured response needs at least two 'hz,db' lines");
    }
    checkResponse(m.response, file.string() + ": ");
    return m;
}

namespace {

/// Small-driver protection: one gain for all channels from their largest |x|, a decoupled peak
/// detector in the linear domain (instant attack to the level through a one-pole of attackMs, a
/// one-pole release), and a static curve above the threshold: reduction = (level − T)(1 − 1/ratio).
/// Double-precision state; latency 0, no tail.
class DriverStage final : public Stage {
public:
    DriverStage(DriverProtection spec, double thresholdDbfs, SpeakerStageStats& stats)
        : m_spec(spec), m_thresholdDb(thresholdDbfs), m_stats(stats) {}
    std::string name() const override { return "driver"; }
    StreamFormat prepare(const StreamFormat& input, Frames) override {
        m_channels = input.channels;
        m_attack = math::onePoleCoefficient(m_spec.attackMs / 1000.0, input.sampleRate);
        m_release = math::onePoleCoefficient(m_spec.releaseMs / 1000.0, input.sampleRate);
        return input;
    }
    void process(const AudioBuffer& in, AudioBuffer& out) override {
        out.reset(in.channels(), in.frames());
        out.setFrames(in.frames());
        const double slope = 1.0 - 1.0 / m_spec.ratio;
        // Below the threshold (most samples) the gain is 1 and no logarithm is taken.
        const double thresholdLinear = math::dbToLinear(m_thresholdDb);
        const double activeLinear = math::dbToLinear(m_thresholdDb + kDriverActiveDb / slope);
        for (Frames i = 0; i < in.frames(); ++i) {
            double peak = 0.0;
            for (int c = 0; c < in.channels(); ++c) {
                peak = std::max(peak, static_cast<double>(std::fabs(in.channel(c)[i])));
            }
            const double a = peak > m_envelope ? m_attack : m_release;
            m_envelope = a * m_envelope + (1.0 - a) * peak;
            if (m_envelope <= thresholdLinear) {
                for (int c = 0; c < in.channels(); ++c) {
                    out.channel(c)[i] = in.channel(c)[i];
                }
                continue;
            }
            const double reductionDb = (math::linearToDb(m_envelope) - m_thresholdDb) * slope;
            const auto g = static_cast<float>(math::dbToLinear(-reductionDb));
            for (int c = 0; c < in.channels(); ++c) {
                out.channel(c)[i] = in.channel(c)[i] * g;
            }
            m_stats.maxReductionDb = std::max(m_stats.maxReductionDb, reductionDb);
            m_stats.framesReduced += m_envelope > activeLinear ? 1 : 0;
        }
        m_stats.frames += in.frames();
    }
    void flush(AudioBuffer& out) override { out.reset(m_channels, 0); }
    Json report() const override {
        return {{"threshold_dbfs", m_thresholdDb},
                {"ratio", m_spec.ratio},
                {"max_reduction_db", m_stats.maxReductionDb}};
    }

private:
    DriverProtection m_spec;
    double m_thresholdDb;
    SpeakerStageStats& m_stats;
    int m_channels = 0;
    double m_attack = 0;
    double m_release = 0;
    double m_envelope = 0;
};

/// Mono summing: every output channel plays the mean of the input channels (a stereo pair:
/// (L+R)/2 on both). Counts the energy before and after (the mono loss).
class MonoFoldStage final : public Stage {
public:
    explicit MonoFoldStage(SpeakerStageStats& stats) : m_stats(stats) {}
    std::string name() const override { return "mono-fold"; }
    StreamFormat prepare(const StreamFormat& input, Frames) override {
        m_channels = input.channels;
        return input;
    }
    bool altersSamples() const override { return m_channels > 1; }
    void process(const AudioBuffer& in, AudioBuffer& out) override {
        out.reset(in.channels(), in.frames());
        out.setFrames(in.frames());
        const int n = in.channels();
        for (Frames i = 0; i < in.frames(); ++i) {
            double sum = 0.0;
            for (int c = 0; c < n; ++c) {
                const double x = in.channel(c)[i];
                sum += x;
                m_stats.foldInEnergy += x * x;
            }
            const double mean = sum / n;
            m_stats.foldOutEnergy += n * mean * mean;
            for (int c = 0; c < n; ++c) {
                out.channel(c)[i] = static_cast<float>(mean);
            }
        }
    }
    void flush(AudioBuffer& out) override { out.reset(m_channels, 0); }

private:
    SpeakerStageStats& m_stats;
    int m_channels = 0;
};

} // namespace

SpeakerModel parseSpeakerModel(const std::string& text, const std::string& origin) {
    const std::string prefix = "speaker model " + origin + ": ";
    Json root;
    try {
        root = Json::parse(text);
    } catch (const Json::parse_error& e) {
        throw UsageError(prefix + "not valid JSON (" + e.what() + ")");
    }
    JsonFields f(root, prefix);
    if (f.text("schema").value_or("") != "lathe-speaker") {
        f.fail("schema", "must be \"lathe-speaker\"");
    }
    const double version = f.number("version", 0.0, 0.0, 1e9);
    if (version != kSpeakerSchemaVersion) {
        f.fail("version", "this Lathe reads version " + std::to_string(kSpeakerSchemaVersion));
    }
    SpeakerModel m;
    m.origin = origin;
    m.id = f.text("id").value_or("");
    if (!validId(m.id)) {
        f.fail("id", "'" + m.id + "' must be 1–40 characters of a-z, 0-9 and '-'");
    }
    m.name = f.text("name").value_or("");
    if (m.name.empty()) {
        f.fail("name", "is required");
    }
    m.description = f.text("description").value_or("");
    m.rationale = f.text("rationale").value_or("");
    m.reference = f.boolean("reference", false);
    m.mono = f.boolean("mono", false);
    m.listeningLevelDbSpl = f.number("listening_level_db_spl", 75.0, 30.0, 130.0);
    if (const Json* r = f.raw("response")) {
        if (!r->is_array()) {
            f.fail("response", "must be an array of [hz, db] pairs");
        }
        for (std::size_t i = 0; i < r->size(); ++i) {
            const Json& p = (*r)[i];
            if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
                f.fail("response", "point " + std::to_string(i + 1) + " must be [hz, db], not " + p.dump());
            }
            m.response.push_back({p[0].get<double>(), p[1].get<double>()});
        }
    }
    checkResponse(m.response, prefix);
    m.lowCut = parseCut(f, "low_cut", prefix);
    m.highCut = parseCut(f, "high_cut", prefix);
    if (m.lowCut && m.highCut && !(m.lowCut->hz < m.highCut->hz)) {
        f.fail("high_cut", "must be above low_cut");
    }
    if (const Json* d = f.raw("driver_limit"); d != nullptr && !d->is_null()) {
        JsonFields g(*d, prefix + "driver_limit ");
        DriverProtection p;
        p.thresholdLu = g.number("threshold_lu", p.thresholdLu, -20.0, 40.0);
        p.ratio = g.number("ratio", p.ratio, 1.0, 100.0);
        p.attackMs = g.number("attack_ms", p.attackMs, 0.0, 1000.0);
        p.releaseMs = g.number("release_ms", p.releaseMs, 1.0, 10000.0);
        g.finish();
        m.driver = p;
    }
    f.finish();
    return m;
}

Json toJson(const SpeakerModel& m) {
    Json j{{"schema", "lathe-speaker"},
           {"version", kSpeakerSchemaVersion},
           {"id", m.id},
           {"name", m.name},
           {"description", m.description},
           {"rationale", m.rationale},
           {"reference", m.reference},
           {"mono", m.mono},
           {"listening_level_db_spl", m.listeningLevelDbSpl}};
    Json points = Json::array();
    for (const auto& p : m.response) {
        points.push_back({p.hz, p.gainDb});
    }
    j["response"] = points;
    auto cut = [](const std::optional<SpeakerCut>& c) {
        return c ? Json{{"hz", c->hz}, {"slope_db_per_octave", c->slopeDbPerOctave}} : Json(nullptr);
    };
    j["low_cut"] = cut(m.lowCut);
    j["high_cut"] = cut(m.highCut);
    j["driver_limit"] = m.driver ? Json{{"threshold_lu", m.driver->thresholdLu},
                                        {"ratio", m.driver->ratio},
                                        {"attack_ms", m.driver->attackMs},
                                        {"release_ms", m.driver->releaseMs}}
                                 : Json(nullptr);
    return j;
}

SpeakerModel loadSpeakerModel(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        throw InputError(file, "no such speaker model file");
    }
    const std::string ext = toLower(file.extension().string());
    if (ext == ".json") {
        return parseSpeakerModel(readText(file), file.string());
    }
    if (ext == ".csv" || ext == ".txt") {
        return parseSpeakerCsv(readText(file), file);
    }
    if (batch::isAudioExtension(file)) {
        AudioReader probe(file); // InputError now for a file that is not audio after all
        SpeakerModel m;
        m.id = idFromStem(file);
        m.name = file.stem().string();
        m.description = "impulse response (" + std::to_string(probe.info().channels) + " ch, " +
                        std::to_string(probe.info().sampleRate) + " Hz)";
        m.rationale = "measured impulse response " + file.filename().string();
        m.origin = file.string();
        m.impulseResponse = file;
        return m;
    }
    throw UsageError(file.string() + ": a speaker model is a .json model, a .csv response (hz,db) or an "
                                     "impulse-response audio file");
}

const std::vector<SpeakerModel>& builtinSpeakers() {
    static const std::vector<SpeakerModel> models = [] {
        std::vector<SpeakerModel> v;
        for (const auto& [name, text] : detail::builtinSpeakerTexts()) {
            SpeakerModel m = parseSpeakerModel(text, std::string("assets/speakers/") + name + ".json");
            m.origin = "built-in";
            v.push_back(std::move(m));
        }
        // The reference first, then from the smallest device to the largest (the order of the plots).
        const std::vector<std::string> order = {"monitors",          "phone",      "laptop",
                                                "earbuds",           "headphones", "tv",
                                                "bluetooth-speaker", "car",        "club-pa"};
        auto rank = [&](const SpeakerModel& m) {
            const auto it = std::find(order.begin(), order.end(), m.id);
            return std::make_pair(!m.reference, static_cast<std::size_t>(it - order.begin()));
        };
        std::stable_sort(v.begin(), v.end(),
                         [&](const SpeakerModel& a, const SpeakerModel& b) { return rank(a) < rank(b); });
        return v;
    }();
    return models;
}

std::vector<SpeakerModel> selectSpeakers(const std::string& list) {
    const auto& all = builtinSpeakers();
    LATHE_EXPECTS(!all.empty() && all.front().reference, "the built-in models start with the reference");
    if (toLower(list) == "all" || list.empty()) {
        return all;
    }
    std::vector<SpeakerModel> out{all.front()};
    std::istringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item.empty()) {
            continue;
        }
        const auto it =
            std::find_if(all.begin(), all.end(), [&](const SpeakerModel& m) { return m.id == item; });
        SpeakerModel m;
        if (it != all.end()) {
            m = *it;
        } else if (item.find('/') != std::string::npos || item.find('.') != std::string::npos) {
            m = loadSpeakerModel(item);
            m.reference = false; // the reference is always the built-in monitors
        } else {
            std::vector<std::string> ids;
            for (const auto& b : all) {
                ids.push_back(b.id);
            }
            throw UsageError("no speaker model '" + item + "' (built in: " + detail::joined(ids) +
                             "; or give a .json/.csv/impulse-response file)");
        }
        const bool dup =
            std::any_of(out.begin(), out.end(), [&](const SpeakerModel& o) { return o.id == m.id; });
        if (!dup) {
            out.push_back(std::move(m));
        }
    }
    return out;
}

design::EqSpec speakerEqSpec(const SpeakerModel& m, int taps) {
    design::EqSpec spec;
    spec.curve = m.response;
    if (m.lowCut) {
        design::EqBand b;
        b.type = design::EqBandType::HighPass;
        b.hz = m.lowCut->hz;
        b.slopeDbPerOctave = m.lowCut->slopeDbPerOctave;
        spec.bands.push_back(b);
    }
    if (m.highCut) {
        design::EqBand b;
        b.type = design::EqBandType::LowPass;
        b.hz = m.highCut->hz;
        b.slopeDbPerOctave = m.highCut->slopeDbPerOctave;
        spec.bands.push_back(b);
    }
    spec.taps = taps;
    // The EQ's automatic length rule gives the first length; responses drawn through points have
    // kinks that a 0.01 dB goal would chase to the longest FIR, so the goal here is half the bound.
    spec.goalDb = kSpeakerFitDb / 2;
    return spec;
}

double speakerResponseDb(const SpeakerModel& m, double hz) {
    if (m.impulseResponse) {
        return 0.0;
    }
    return 20.0 * std::log10(design::targetMagnitude(speakerEqSpec(m), design::EqPlacement::Stereo, hz));
}

std::optional<double> speakerBassLimitHz(const SpeakerModel& m) {
    if (m.impulseResponse) {
        return std::nullopt;
    }
    const double at1k = speakerResponseDb(m, 1000.0);
    // Walk down from 1 kHz in 1/48 octave steps; the limit is the last frequency still within 10 dB.
    double hz = 1000.0;
    const double step = std::pow(2.0, -1.0 / 48.0);
    while (hz * step >= 20.0 && speakerResponseDb(m, hz * step) >= at1k - 10.0) {
        hz *= step;
    }
    return hz * step < 20.0 ? 20.0 : hz;
}

std::vector<std::unique_ptr<Stage>> buildSpeakerStages(const SpeakerModel& m, double programmeLufs,
                                                       Backend& backend, unsigned threads,
                                                       SpeakerStageStats& stats) {
    std::vector<std::unique_ptr<Stage>> stages;
    ConvolverOptions conv;
    conv.threads = threads;
    if (m.mono) {
        stages.push_back(std::make_unique<MonoFoldStage>(stats));
    }
    if (m.impulseResponse) {
        ReverbSpec r;
        r.irFile = m.impulseResponse;
        r.wetDb = 0.0;
        r.dryDb = kReverbMutedDb - 1.0;
        r.normalization = IrNormalization::None;
        stages.push_back(std::make_unique<ReverbStage>(r, backend, conv));
    } else if (std::any_of(m.response.begin(), m.response.end(),
                           [](const auto& p) { return p.gainDb != 0.0; }) ||
               m.lowCut || m.highCut) {
        // (A flat response is no stage at all: the samples pass bit-exactly.) The stage chooses the
        // length for the stream's rate itself, to speakerEqSpec's goal, and designs each length once.
        stages.push_back(std::make_unique<EqStage>(speakerEqSpec(m), backend, conv));
    }
    if (m.driver && m.driver->ratio > 1.0) {
        stages.push_back(
            std::make_unique<DriverStage>(*m.driver, programmeLufs + m.driver->thresholdLu, stats));
    }
    return stages;
}

} // namespace lathe
