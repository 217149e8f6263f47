// SPDX-License-Identifier: GPL-3.0-or-later
#include "FindingsModel.h"

#include "PlotData.h"

#include <QColor>

namespace lathe::ui {

void FindingsModel::setFindings(std::vector<Finding> findings) {
    beginResetModel();
    m_findings = std::move(findings);
    endResetModel();
}

int FindingsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_findings.size());
}

QVariant FindingsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const Finding& f = m_findings[static_cast<std::size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole: {
        QString text = QString::fromStdString(f.title);
        if (!f.ranges.empty()) {
            text += QStringLiteral("  (at %1").arg(formatTime(f.ranges.front().startSeconds));
            text += f.ranges.size() > 1 ? QStringLiteral(" and %1 more)").arg(f.ranges.size() - 1)
                                        : QStringLiteral(")");
        }
        return text;
    }
    case Qt::ToolTipRole:
    case MessageRole:
        return QString::fromStdString(f.message);
    case SeverityRole:
        return QString::fromLatin1(severityName(f.severity).data(),
                                   static_cast<qsizetype>(severityName(f.severity).size()));
    case Qt::DecorationRole:
        return f.severity == Severity::Problem   ? QColor(0xe0, 0x5a, 0x4f)
               : f.severity == Severity::Warning ? QColor(0xe8, 0xb0, 0x3c)
                                                 : QColor(0x6c, 0x9e, 0xd8);
    case FirstRangeStartRole:
        return f.ranges.empty() ? QVariant() : QVariant(f.ranges.front().startSeconds);
    case FirstRangeEndRole:
        return f.ranges.empty() ? QVariant() : QVariant(f.ranges.front().endSeconds);
    default:
        return {};
    }
}

QHash<int, QByteArray> FindingsModel::roleNames() const {
    QHash<int, QByteArray> r = QAbstractListModel::roleNames();
    r[SeverityRole] = "severity";
    r[MessageRole] = "message";
    r[FirstRangeStartRole] = "firstRangeStart";
    r[FirstRangeEndRole] = "firstRangeEnd";
    return r;
}

} // namespace lathe::ui
