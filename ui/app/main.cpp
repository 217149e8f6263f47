// SPDX-License-Identifier: GPL-3.0-or-later
// lathe-studio [FILE]: the desktop app. FILE is an audio file to analyse, a session
// (.lathe.json) or a preset (.json) to open.
#include "app/MainWindow.h"
#include "widgets/Theme.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Lathe Studio"));
    QApplication::setApplicationVersion(QStringLiteral(LATHE_VERSION));
    QApplication::setOrganizationName(QStringLiteral("Lathe"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Lathe Studio: mastering and analysis (loudness, spectra, translation across speakers)."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("file"),
        QStringLiteral("An audio file to analyse, a session (.lathe.json) or a preset (.json)."),
        QStringLiteral("[file]"));
    parser.process(app); // --help and --version print and exit; an unknown option is an error
    lathe::ui::applyStudioTheme(app);
    lathe::ui::MainWindow window;
    window.resize(1600, 1000);
    window.show();
    if (const QStringList files = parser.positionalArguments(); !files.isEmpty()) {
        window.open(files.front());
    }
    return QApplication::exec();
}
