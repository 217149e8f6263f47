// Lathe Studio: the speaker-translation metrics, one row per speaker model (lathe/Translation.h).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Translation.h>

#include <QAbstractTableModel>

namespace lathe::ui {

class TranslationModel final : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Speaker, PlaysAt, LostBass, Presence, Balance, MonoLoss, Verdict, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;

    void setResult(const TranslationResult* result); ///< null clears; the result must outlive the model's use
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    const TranslationResult* m_result = nullptr;
};

} // namespace lathe::ui
