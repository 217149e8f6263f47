// Lathe Studio: the chain editor's model — a preset document (the CLI's preset JSON, same schema)
// as a tree: the loudness target, then each stage (checkable: unchecked = bypassed) with its
// parameters and bands. Every edit is validated by the engine (parsePreset) before it is kept;
// a rejected edit leaves the document unchanged and lastError() says why.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Preset.h>

#include <QAbstractItemModel>
#include <utility>
#include <vector>

namespace lathe::ui {

class ChainModel final : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column { Name, Value, ColumnCount };
    /// For values picked from a list (the loudness target: the platforms; a reverb's room):
    /// Value-column data under this role is a QVariantList of QVariantMap {label, value} where
    /// value is what setData takes.
    static constexpr int ChoicesRole = Qt::UserRole + 1;
    explicit ChainModel(QObject* parent = nullptr);

    /// Shows `doc` (throws lathe::Error when it does not validate).
    void setDocument(PresetDocument doc);
    const PresetDocument& document() const { return m_doc; }
    /// The document as the engine reads it.
    Preset preset() const { return parsePreset(m_doc); }
    QString lastError() const { return m_lastError; }
    /// Values to set at places in the document, applied together.
    using Edits = std::vector<std::pair<nlohmann::json::json_pointer, nlohmann::json>>;
    /// Sets values in the document as one edit (the EQ curve's drag moves a band's frequency and
    /// gain together); validated like an edit in the tree. Returns false (and keeps the document)
    /// when the engine refuses it.
    bool setValues(const Edits& edits);
    bool setValue(const nlohmann::json::json_pointer& pointer, const nlohmann::json& value) {
        return setValues({{pointer, value}});
    }

    /// Structural edits, validated like the others (false with lastError() when refused).
    /// Adds a band to the stage at `stage` (0-based in the chain): an EQ gets a flat bell at
    /// 1 kHz; a multiband's widest band (in octaves, 20 Hz–20 kHz at the ends) is split at its
    /// geometric centre, both halves keeping that band's settings.
    bool addBand(int stage);
    /// Removes band `band` of stage `stage`. A multiband band goes with the split below it (the
    /// lowest band with the split above it): the neighbour's range grows over it.
    bool removeBand(int stage, int band);
    /// Appends a stage: "eq" (one flat bell), "limiter" (−1 dBTP), or "multiband" / "reverb"
    /// as the first bundled preset that has one sets it up (default's 4-band glue, glue-room's
    /// room), so a new stage starts from tuned settings rather than invented ones.
    bool addStage(const QString& type);
    bool removeStage(int stage);
    /// The stage (0-based) and band (or −1) an index belongs to; stage −1 for the target row.
    std::pair<int, int> stageAndBand(const QModelIndex& index) const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    /// The document changed (an accepted edit, or a new document).
    void documentChanged();
    /// An edit was refused; `message` is the engine's.
    void editRejected(const QString& message);

private:
    struct Node {
        int parent = -1; ///< index into m_nodes, −1 for top level
        int row = 0;     ///< row under its parent
        QString label;
        nlohmann::json::json_pointer pointer; ///< the value (or the stage object) in the document
        bool stage = false;                   ///< a stage row: checkable (bypass), value = summary
        bool editable = false;
        std::vector<int> children;
    };
    void rebuild();
    int add(int parent, QString label, nlohmann::json::json_pointer pointer, bool stage, bool editable);
    /// The engine's validation of `doc`; on refusal sets lastError() and emits editRejected.
    bool accepted(const PresetDocument& doc);
    /// Applies `edits` when the result validates (values only: the tree keeps its shape).
    bool commit(const Edits& edits);
    /// Validates `doc` and, when the engine accepts it, shows it (a structural change: reset).
    bool replace(PresetDocument doc);
    const Node* node(const QModelIndex& index) const;

    PresetDocument m_doc;
    std::vector<Node> m_nodes;
    std::vector<int> m_top;
    QString m_lastError;
};

} // namespace lathe::ui
