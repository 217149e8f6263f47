// SPDX-License-Identifier: GPL-3.0-or-later
#include "ChainModel.h"

#include <lathe/Error.h>
#include <lathe/Platforms.h>
#include <lathe/design/Rooms.h>

#include <QStringList>
#include <QVariantMap>
#include <cmath>
#include <cstdio>
#include <optional>
#include <variant>

namespace lathe::ui {
namespace {

/// A scalar or an array of numbers as the editor shows it ("120, 1000, 6000").
QString text(const nlohmann::json& v) {
    if (v.is_array()) {
        QStringList parts;
        for (const auto& x : v) {
            parts << QString::fromStdString(x.dump());
        }
        return parts.join(QStringLiteral(", "));
    }
    if (v.is_string()) {
        return QString::fromStdString(v.get<std::string>());
    }
    return QString::fromStdString(v.dump());
}

/// What the user typed, as the JSON the document holds: numbers, true/false, lists of numbers
/// for arrays, else a string (the engine's validation decides whether it fits).
nlohmann::json parseValue(const QString& typed, const nlohmann::json& old) {
    if (old.is_array()) {
        nlohmann::json a = nlohmann::json::array();
        for (const QString& part : typed.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            bool ok = false;
            const double v = part.trimmed().toDouble(&ok);
            a.push_back(ok ? nlohmann::json(v) : nlohmann::json(part.trimmed().toStdString()));
        }
        return a;
    }
    try {
        return nlohmann::json::parse(typed.trimmed().toStdString());
    } catch (const nlohmann::json::parse_error&) {
        return typed.trimmed().toStdString();
    }
}

const nlohmann::json::json_pointer kTarget("/target_lufs");

/// A band's settings in one line, the ones an engineer reads first first: "bell · 250 Hz ·
/// −0.8 dB · Q 0.9" for an EQ band, "−26 dB · 1.4:1 · 30/300 ms · knee 10 dB" for a multiband
/// band; flags only when they change something ("off", "bypassed", "solo").
QString bandSummary(const nlohmann::json& band) {
    auto has = [&](const char* key) { return band.contains(key) && !band[key].is_null(); };
    auto num = [&](const char* key) { return text(band[key]).replace(QLatin1Char('-'), QChar(0x2212)); };
    QStringList parts;
    if (has("type")) {
        parts << text(band["type"]);
    }
    if (has("hz")) {
        parts << num("hz") + QStringLiteral(" Hz");
    }
    if (has("gain_db")) {
        parts << num("gain_db") + QStringLiteral(" dB");
    }
    if (has("q")) {
        parts << QStringLiteral("Q ") + num("q");
    }
    if (has("slope_db_per_oct")) {
        parts << num("slope_db_per_oct") + QStringLiteral(" dB/oct");
    }
    if (has("mode") && band["mode"] != "compressor") {
        parts << text(band["mode"]);
    }
    if (has("threshold_db")) {
        parts << num("threshold_db") + QStringLiteral(" dB");
    }
    if (has("ratio")) {
        parts << num("ratio") + QStringLiteral(":1");
    }
    if (has("attack_ms") && has("release_ms")) {
        parts << num("attack_ms") + QLatin1Char('/') + num("release_ms") + QStringLiteral(" ms");
    }
    if (has("knee_db")) {
        parts << QStringLiteral("knee ") + num("knee_db") + QStringLiteral(" dB");
    }
    if (has("makeup_db") && band["makeup_db"] != 0) {
        parts << QStringLiteral("makeup ") + num("makeup_db") + QStringLiteral(" dB");
    }
    if (has("placement") && band["placement"] != "stereo") {
        parts << text(band["placement"]);
    }
    if (band.value("enabled", true) == false) {
        parts << QStringLiteral("off");
    }
    if (band.value("bypass", false) == true) {
        parts << QStringLiteral("bypassed");
    }
    if (band.value("solo", false) == true) {
        parts << QStringLiteral("solo");
    }
    return parts.join(QStringLiteral(" · "));
}

/// The typed word that clears the loudness target (the row shows it when there is none).
bool isNone(const QString& typed) {
    return typed.trimmed().compare(QLatin1String("none"), Qt::CaseInsensitive) == 0;
}

QVariantMap choice(const QString& label, const QString& value) {
    return {{QStringLiteral("label"), label}, {QStringLiteral("value"), value}};
}

/// The loudness targets to pick from: none, then every platform of the engine's table that
/// normalises to (or specifies) a loudness.
QVariantList targetChoices() {
    QVariantList list{choice(QStringLiteral("none (no loudness targeting)"), QStringLiteral("none"))};
    for (const Platform& p : builtinPlatforms()) {
        if (p.targetLufs) {
            const QString lufs = QString::number(*p.targetLufs);
            list << choice(QStringLiteral("%1 LUFS — %2").arg(lufs, QString::fromStdString(p.name)), lufs);
        }
    }
    return list;
}

QVariantList roomChoices() {
    QVariantList list;
    for (const design::RoomSpec& r : design::builtinRooms()) {
        list << choice(QString::fromStdString(r.name), QString::fromStdString(r.name));
    }
    return list;
}

/// The first stage of `type` in the bundled presets (in their listed order), without its id so
/// that the engine names it after its type and position.
std::optional<nlohmann::json> bundledStage(const std::string& type) {
    for (const PresetInfo& info : bundledPresets()) {
        const PresetDocument d = loadPresetDocument(info.name);
        for (const auto& st : d.json.value("stages", nlohmann::json::array())) {
            if (st.value("type", std::string()) == type) {
                nlohmann::json copy = st;
                copy.erase("id");
                copy.erase("bypass");
                return copy;
            }
        }
    }
    return std::nullopt;
}

/// A multiband stage that leaves its splits to the engine's default gets them written out (the
/// engine's reading of `doc`), so that a band can be split or merged with them.
void withEngineSplits(nlohmann::json& stage, const PresetDocument& doc, int index) {
    if (stage.contains("splits_hz")) {
        return;
    }
    try {
        const Preset p = parsePreset(doc);
        if (const auto* mb = std::get_if<MultibandSpec>(&p.stages.at(static_cast<std::size_t>(index)).spec)) {
            stage["splits_hz"] = mb->splitsHz;
        }
    } catch (const Error&) {
        // left as it is: the edit's own validation names the problem
    }
}

/// Lowest and highest frequencies a multiband's outer bands are taken to span when the widest
/// band is chosen for splitting (the audible range).
constexpr double kMultibandLowHz = 20.0;
constexpr double kMultibandHighHz = 20000.0;

} // namespace

ChainModel::ChainModel(QObject* parent) : QAbstractItemModel(parent) {}

void ChainModel::setDocument(PresetDocument doc) {
    parsePreset(doc); // throws when it does not validate
    beginResetModel();
    m_doc = std::move(doc);
    rebuild();
    endResetModel();
    Q_EMIT documentChanged();
}

int ChainModel::add(int parent, QString label, nlohmann::json::json_pointer pointer, bool stage,
                    bool editable) {
    Node n;
    n.parent = parent;
    n.label = std::move(label);
    n.pointer = std::move(pointer);
    n.stage = stage;
    n.editable = editable;
    const int id = static_cast<int>(m_nodes.size());
    std::vector<int>& siblings = parent < 0 ? m_top : m_nodes[static_cast<std::size_t>(parent)].children;
    n.row = static_cast<int>(siblings.size());
    siblings.push_back(id);
    m_nodes.push_back(std::move(n));
    return id;
}

void ChainModel::rebuild() {
    m_nodes.clear();
    m_top.clear();
    using Ptr = nlohmann::json::json_pointer;
    add(-1, QStringLiteral("Loudness target (LUFS)"), Ptr("/target_lufs"), false, true);
    const nlohmann::json& stages = m_doc.json["stages"];
    for (std::size_t s = 0; s < stages.size(); ++s) {
        const nlohmann::json& st = stages[s];
        const Ptr sp = Ptr("/stages") / s;
        const int stageNode =
            add(-1, QString::fromStdString(st.value("type", std::string("stage"))), sp, true, false);
        for (auto it = st.begin(); it != st.end(); ++it) {
            if (it.key() == "type" || it.key() == "bypass") {
                continue; // the row's name and its check box
            }
            if (it.key() == "bands" && it->is_array()) {
                for (std::size_t b = 0; b < it->size(); ++b) {
                    const nlohmann::json& band = (*it)[b];
                    const Ptr bp = sp / "bands" / b;
                    const int bandNode =
                        add(stageNode, QStringLiteral("band %1").arg(b + 1), bp, false, false);
                    for (auto p = band.begin(); p != band.end(); ++p) {
                        add(bandNode, QString::fromStdString(p.key()), bp / p.key(), false, !p->is_object());
                    }
                }
                continue;
            }
            add(stageNode, QString::fromStdString(it.key()), sp / it.key(), false, !it->is_object());
        }
    }
}

const ChainModel::Node* ChainModel::node(const QModelIndex& index) const {
    if (!index.isValid() || index.internalId() >= m_nodes.size()) {
        return nullptr;
    }
    return &m_nodes[static_cast<std::size_t>(index.internalId())];
}

QModelIndex ChainModel::index(int row, int column, const QModelIndex& parent) const {
    if (column < 0 || column >= ColumnCount || row < 0) {
        return {};
    }
    const std::vector<int>& list = parent.isValid() ? node(parent)->children : m_top;
    if (parent.isValid() && parent.column() != 0) {
        return {};
    }
    if (row >= static_cast<int>(list.size())) {
        return {};
    }
    return createIndex(row, column, static_cast<quintptr>(list[static_cast<std::size_t>(row)]));
}

QModelIndex ChainModel::parent(const QModelIndex& child) const {
    const Node* n = node(child);
    if (n == nullptr || n->parent < 0) {
        return {};
    }
    const Node& p = m_nodes[static_cast<std::size_t>(n->parent)];
    return createIndex(p.row, 0, static_cast<quintptr>(n->parent));
}

int ChainModel::rowCount(const QModelIndex& parent) const {
    if (!parent.isValid()) {
        return static_cast<int>(m_top.size());
    }
    return parent.column() == 0 ? static_cast<int>(node(parent)->children.size()) : 0;
}

int ChainModel::columnCount(const QModelIndex&) const {
    return ColumnCount;
}

QVariant ChainModel::data(const QModelIndex& index, int role) const {
    const Node* n = node(index);
    if (n == nullptr) {
        return {};
    }
    const bool present = m_doc.json.contains(n->pointer);
    if (n->stage) {
        const nlohmann::json& st = m_doc.json[n->pointer];
        const bool bypassed = st.value("bypass", false);
        if (index.column() == Name && role == Qt::CheckStateRole) {
            return bypassed ? Qt::Unchecked : Qt::Checked;
        }
        if (role == Qt::DisplayRole) {
            if (index.column() == Name) {
                return n->label;
            }
            const auto bands = st.find("bands");
            QString summary = bands != st.end() && bands->is_array()
                                  ? QStringLiteral("%1 bands").arg(bands->size())
                                  : QString();
            return bypassed ? QStringLiteral("bypassed") : summary;
        }
        return {};
    }
    if (role == ChoicesRole) {
        if (index.column() != Value || !n->editable) {
            return {};
        }
        if (n->pointer == kTarget) {
            return targetChoices();
        }
        if (!n->pointer.empty() && n->pointer.back() == "room") {
            return roomChoices();
        }
        return {};
    }
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        if (index.column() == Name) {
            return n->label;
        }
        if (!n->editable) {
            // A band: its settings in one line ("bell · 250 Hz · -0.8 dB · q 0.9").
            const nlohmann::json& band = m_doc.json[n->pointer];
            if (role != Qt::DisplayRole || !band.is_object()) {
                return {};
            }
            return bandSummary(band);
        }
        return present ? text(m_doc.json[n->pointer]) : QStringLiteral("none");
    }
    return {};
}

Qt::ItemFlags ChainModel::flags(const QModelIndex& index) const {
    const Node* n = node(index);
    if (n == nullptr) {
        return Qt::NoItemFlags;
    }
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (n->stage && index.column() == Name) {
        f |= Qt::ItemIsUserCheckable;
    }
    if (n->editable && index.column() == Value) {
        f |= Qt::ItemIsEditable;
    }
    return f;
}

bool ChainModel::accepted(const PresetDocument& doc) {
    try {
        parsePreset(doc); // the engine's validation, messages and all
    } catch (const Error& e) {
        m_lastError = QString::fromStdString(e.what());
        Q_EMIT editRejected(m_lastError);
        return false;
    }
    m_lastError.clear();
    return true;
}

bool ChainModel::commit(const Edits& edits) {
    PresetDocument trial = m_doc;
    for (const auto& [pointer, value] : edits) {
        if (value.is_null()) { // "none": the key goes (the engine's default applies)
            trial.json[pointer.parent_pointer()].erase(pointer.back());
        } else {
            trial.json[pointer] = value;
        }
    }
    if (!accepted(trial)) {
        return false;
    }
    m_doc = std::move(trial);
    Q_EMIT documentChanged();
    return true;
}

bool ChainModel::setValues(const Edits& edits) {
    if (!commit(edits)) {
        return false;
    }
    for (std::size_t k = 0; k < m_nodes.size(); ++k) {
        for (const auto& edit : edits) {
            if (m_nodes[k].pointer == edit.first) {
                const QModelIndex i = createIndex(m_nodes[k].row, Value, static_cast<quintptr>(k));
                Q_EMIT dataChanged(i, i);
            }
        }
    }
    return true;
}

bool ChainModel::replace(PresetDocument doc) {
    if (!accepted(doc)) {
        return false;
    }
    beginResetModel();
    m_doc = std::move(doc);
    rebuild();
    endResetModel();
    Q_EMIT documentChanged();
    return true;
}

bool ChainModel::addBand(int stage) {
    PresetDocument d = m_doc;
    auto& stages = d.json["stages"];
    const std::string type = stage >= 0 && stage < static_cast<int>(stages.size())
                                 ? stages[static_cast<std::size_t>(stage)].value("type", "")
                                 : std::string();
    if (type == "eq") {
        stages[static_cast<std::size_t>(stage)]["bands"].push_back(
            {{"type", "bell"}, {"hz", 1000}, {"gain_db", 0}, {"q", 1.0}});
        return replace(std::move(d));
    }
    if (type == "multiband") {
        auto& st = stages[static_cast<std::size_t>(stage)];
        withEngineSplits(st, m_doc, stage);
        auto& splits = st["splits_hz"];
        auto& bands = st["bands"];
        if (!splits.is_array() || !bands.is_array() || bands.size() != splits.size() + 1) {
            accepted(d); // the engine names what is wrong
            return false;
        }
        // Band b spans [edge(b), edge(b + 1)].
        auto edge = [&](std::size_t k) {
            return k == 0              ? kMultibandLowHz
                   : k > splits.size() ? kMultibandHighHz
                                       : splits[k - 1].get<double>();
        };
        std::size_t widest = 0;
        for (std::size_t b = 1; b < bands.size(); ++b) {
            if (std::log2(edge(b + 1) / edge(b)) > std::log2(edge(widest + 1) / edge(widest))) {
                widest = b;
            }
        }
        const double centre = std::round(std::sqrt(edge(widest) * edge(widest + 1)));
        const nlohmann::json settings = bands[widest]; // both halves start with them
        splits.insert(splits.begin() + static_cast<std::ptrdiff_t>(widest), centre);
        bands.insert(bands.begin() + static_cast<std::ptrdiff_t>(widest), settings);
        return replace(std::move(d));
    }
    m_lastError = QStringLiteral("bands are added to an EQ or a multiband stage");
    Q_EMIT editRejected(m_lastError);
    return false;
}

bool ChainModel::removeBand(int stage, int band) {
    PresetDocument d = m_doc;
    auto& stages = d.json["stages"];
    if (stage < 0 || stage >= static_cast<int>(stages.size())) {
        return false;
    }
    auto& st = stages[static_cast<std::size_t>(stage)];
    if (!st.contains("bands") || !st["bands"].is_array() || band < 0 ||
        band >= static_cast<int>(st["bands"].size())) {
        m_lastError = QStringLiteral("that stage has no band %1").arg(band + 1);
        Q_EMIT editRejected(m_lastError);
        return false;
    }
    const auto b = static_cast<std::size_t>(band);
    if (st.value("type", "") == "multiband") {
        withEngineSplits(st, m_doc, stage);
        const auto splits = st.find("splits_hz");
        if (splits != st.end() && splits->is_array() && !splits->empty()) {
            splits->erase(b == 0 ? 0 : b - 1);
        }
    }
    st["bands"].erase(b);
    return replace(std::move(d));
}

bool ChainModel::addStage(const QString& type) {
    PresetDocument d = m_doc;
    nlohmann::json stage;
    if (type == QLatin1String("eq")) {
        stage = {
            {"type", "eq"},
            {"bands", nlohmann::json::array({{{"type", "bell"}, {"hz", 1000}, {"gain_db", 0}, {"q", 1.0}}})}};
    } else if (type == QLatin1String("limiter")) {
        stage = {{"type", "limiter"}, {"ceiling_dbtp", -1.0}};
    } else if (auto bundled = bundledStage(type.toStdString())) {
        stage = std::move(*bundled);
    } else {
        m_lastError = QStringLiteral("'%1' is not a stage type (eq, multiband, reverb, limiter)").arg(type);
        Q_EMIT editRejected(m_lastError);
        return false;
    }
    d.json["stages"].push_back(stage);
    return replace(std::move(d));
}

bool ChainModel::removeStage(int stage) {
    PresetDocument d = m_doc;
    auto& stages = d.json["stages"];
    if (stage < 0 || stage >= static_cast<int>(stages.size())) {
        return false;
    }
    stages.erase(static_cast<std::size_t>(stage));
    return replace(std::move(d));
}

std::pair<int, int> ChainModel::stageAndBand(const QModelIndex& index) const {
    const Node* n = node(index);
    if (n == nullptr) {
        return {-1, -1};
    }
    // "/stages/S[/bands/B[/key]]" or "/stages/S/key"
    const std::string path = n->pointer.to_string();
    int stage = -1;
    int band = -1;
    if (std::sscanf(path.c_str(), "/stages/%d/bands/%d", &stage, &band) == 2) {
        return {stage, band};
    }
    if (std::sscanf(path.c_str(), "/stages/%d", &stage) == 1) {
        return {stage, -1};
    }
    return {-1, -1};
}

bool ChainModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    const Node* n = node(index);
    if (n == nullptr) {
        return false;
    }
    if (n->stage && index.column() == Name && role == Qt::CheckStateRole) {
        const bool on = value.toInt() == Qt::Checked;
        if (!commit({{n->pointer / "bypass", !on}})) {
            return false;
        }
        Q_EMIT dataChanged(index, this->index(index.row(), Value, parent(index)));
        return true;
    }
    if (!n->editable || index.column() != Value || role != Qt::EditRole) {
        return false;
    }
    const nlohmann::json old = m_doc.json.contains(n->pointer) ? m_doc.json[n->pointer] : nlohmann::json();
    const bool clear = n->pointer == kTarget && isNone(value.toString());
    if (!commit({{n->pointer, clear ? nlohmann::json() : parseValue(value.toString(), old)}})) {
        return false;
    }
    Q_EMIT dataChanged(index, index);
    return true;
}

QVariant ChainModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation == Qt::Horizontal && role == Qt::DisplayRole) {
        return section == Name ? QStringLiteral("Chain") : QStringLiteral("Value");
    }
    return {};
}

} // namespace lathe::ui
