// Lathe (engine-private): small SVG and PNG writers for the HTML report.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe::report {

/// Escapes text for XML (&, <, >, ", ').
std::string xmlEscape(const std::string& text);

/// A plot area with axes, grid and labels, and data drawn into it, as one <svg> element.
/// Coordinates are in data units; NaN/±∞ values break a line (gaps in the data stay gaps).
class SvgPlot {
public:
    SvgPlot(int width, int height, double x0, double x1, double y0, double y1, bool logX = false);

    void setTitle(const std::string& title) { m_title = title; }
    void setXLabel(const std::string& label) { m_xLabel = label; }
    void setYLabel(const std::string& label) { m_yLabel = label; }
    void xTicks(const std::vector<double>& at, const std::vector<std::string>& labels);
    void yTicks(const std::vector<double>& at, const std::vector<std::string>& labels);

    /// A polyline; `series` becomes data-series="…", `cssClass` the stroke style.
    void line(const std::vector<double>& x, const std::vector<double>& y, const std::string& series,
              const std::string& cssClass);
    /// A horizontal line across the plot at y (e.g. integrated loudness), labelled at the right
    /// (or at the left with `labelLeft`, so that two nearby lines keep readable labels).
    void hline(double y, const std::string& series, const std::string& cssClass, const std::string& label,
               bool labelLeft = false);
    /// Bars from y0 up to each value (histograms), bar i spanning [x[i], x[i] + width).
    void bars(const std::vector<double>& x, double width, const std::vector<double>& y, const std::string& series,
              const std::string& cssClass);
    /// A raster image (data URI) filling the plot area.
    void image(const std::string& dataUri);
    /// A legend entry (drawn top-left inside the plot).
    void legend(const std::string& label, const std::string& cssClass);

    double px(double x) const; ///< data x → SVG x
    double py(double y) const; ///< data y → SVG y

    std::string str() const;

private:
    int m_w;
    int m_h;
    double m_x0, m_x1, m_y0, m_y1;
    bool m_logX;
    std::string m_title, m_xLabel, m_yLabel;
    std::string m_body;
    std::string m_axes;
    std::vector<std::pair<std::string, std::string>> m_legend;
};

/// An 8-bit palette PNG (zlib-compressed), as a data: URI. `index` is row-major, top row first.
std::string pngDataUri(int width, int height, const std::vector<std::uint8_t>& index,
                       const std::vector<std::uint32_t>& paletteRgb);

/// 256 colours from dark (low) to bright (high) for dB images (a magma-like ramp).
std::vector<std::uint32_t> heatPalette();

} // namespace lathe::report
