// SPDX-License-Identifier: GPL-3.0-or-later
#include "ChoiceDelegate.h"

#include "models/ChainModel.h"

#include <QComboBox>
#include <QVariantMap>

namespace lathe::ui {
namespace {

QVariantList choicesOf(const QModelIndex& index) {
    return index.data(ChainModel::ChoicesRole).toList();
}

} // namespace

QWidget* ChoiceDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                                      const QModelIndex& index) const {
    const QVariantList choices = choicesOf(index);
    if (choices.isEmpty()) {
        return QStyledItemDelegate::createEditor(parent, option, index);
    }
    auto* box = new QComboBox(parent);
    box->setEditable(true); // a number that is no platform's target can still be typed
    box->setInsertPolicy(QComboBox::NoInsert);
    for (const QVariant& c : choices) {
        const QVariantMap m = c.toMap();
        box->addItem(m.value(QStringLiteral("label")).toString(), m.value(QStringLiteral("value")));
    }
    // Commit as soon as a choice is picked, as a combo box in a settings panel does.
    connect(box, &QComboBox::activated, this, [this, box] {
        auto* self = const_cast<ChoiceDelegate*>(this);
        Q_EMIT self->commitData(box);
        Q_EMIT self->closeEditor(box);
    });
    return box;
}

void ChoiceDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
    auto* box = qobject_cast<QComboBox*>(editor);
    if (box == nullptr) {
        QStyledItemDelegate::setEditorData(editor, index);
        return;
    }
    const QString current = index.data(Qt::EditRole).toString();
    const int at = box->findData(current);
    if (at >= 0) {
        box->setCurrentIndex(at);
    } else {
        box->setEditText(current);
    }
}

void ChoiceDelegate::setModelData(QWidget* editor, QAbstractItemModel* model,
                                  const QModelIndex& index) const {
    auto* box = qobject_cast<QComboBox*>(editor);
    if (box == nullptr) {
        QStyledItemDelegate::setModelData(editor, model, index);
        return;
    }
    // A listed label stands for its value; anything else is what was typed.
    const QString typed = box->currentText();
    const int at = box->findText(typed);
    model->setData(index, at >= 0 ? box->itemData(at) : QVariant(typed), Qt::EditRole);
}

} // namespace lathe::ui
