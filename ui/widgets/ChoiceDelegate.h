// Lathe Studio: the chain editor's cell editor. A value the model offers choices for
// (ChainModel::ChoicesRole: the loudness target's platforms, a reverb's rooms) is edited in an
// editable combo box — pick a platform or type a number; every other value in a line edit.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStyledItemDelegate>

namespace lathe::ui {

class ChoiceDelegate final : public QStyledItemDelegate {
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                          const QModelIndex& index) const override;
    void setEditorData(QWidget* editor, const QModelIndex& index) const override;
    void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override;
};

} // namespace lathe::ui
