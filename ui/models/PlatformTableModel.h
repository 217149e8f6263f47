// Lathe Studio: what each streaming/broadcast platform would do to the measured file.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Platforms.h>

#include <QAbstractTableModel>
#include <vector>

namespace lathe::ui {

class PlatformTableModel final : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Platform, Gain, Loudness, TruePeak, Verdict, Note, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;

    void setPreviews(std::vector<PlatformPreview> previews);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<PlatformPreview> m_rows;
};

} // namespace lathe::ui
