// SPDX-License-Identifier: GPL-3.0-or-later
// lathe-studio [FILE]: the desktop app.
#include "app/MainWindow.h"
#include "widgets/Theme.h"

#include <QApplication>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Lathe Studio"));
    QApplication::setOrganizationName(QStringLiteral("Lathe"));
    lathe::ui::applyStudioTheme(app);
    lathe::ui::MainWindow window;
    window.resize(1600, 1000);
    window.show();
    const QStringList args = QApplication::arguments();
    if (args.size() > 1) {
        window.openFile(args.at(1));
    }
    return QApplication::exec();
}
