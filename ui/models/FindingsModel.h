// Lathe Studio: the mix-readiness findings as a list (severity, title, message, where).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Analysis.h>

#include <QAbstractListModel>
#include <vector>

namespace lathe::ui {

class FindingsModel final : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        SeverityRole = Qt::UserRole + 1, ///< "info", "warning", "problem"
        MessageRole,                     ///< the full sentence(s)
        FirstRangeStartRole,             ///< seconds where it first happens, or invalid
        FirstRangeEndRole,               ///< seconds where that first range ends, or invalid
    };
    using QAbstractListModel::QAbstractListModel;

    void setFindings(std::vector<Finding> findings);
    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    std::vector<Finding> m_findings;
};

} // namespace lathe::ui
