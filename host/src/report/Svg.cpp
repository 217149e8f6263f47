// SPDX-License-Identifier: GPL-3.0-or-later
#include "Svg.h"

#include <lathe/Error.h>
#include <lathe/Text.h>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lathe::report {
namespace {

constexpr int kLeft = 64;
constexpr int kRight = 16;
constexpr int kTop = 28;
constexpr int kBottom = 40;

std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return b;
}

bool finite(double v) { return std::isfinite(v); }

} // namespace

std::string xmlEscape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

SvgPlot::SvgPlot(int width, int height, double x0, double x1, double y0, double y1, bool logX)
    : m_w(width), m_h(height), m_x0(x0), m_x1(x1), m_y0(y0), m_y1(y1), m_logX(logX) {
    LATHE_EXPECTS(x1 > x0 && y1 > y0 && (!logX || x0 > 0.0), "plot ranges must be increasing");
}

double SvgPlot::px(double x) const {
    const double span = m_w - kLeft - kRight;
    const double t = m_logX ? std::log(x / m_x0) / std::log(m_x1 / m_x0) : (x - m_x0) / (m_x1 - m_x0);
    return kLeft + std::clamp(t, -0.01, 1.01) * span;
}

double SvgPlot::py(double y) const {
    const double span = m_h - kTop - kBottom;
    const double t = (y - m_y0) / (m_y1 - m_y0);
    return kTop + (1.0 - std::clamp(t, -0.01, 1.01)) * span;
}

void SvgPlot::xTicks(const std::vector<double>& at, const std::vector<std::string>& labels) {
    for (std::size_t i = 0; i < at.size(); ++i) {
        const std::string x = num(px(at[i]));
        m_axes += "<line class=\"grid\" x1=\"" + x + "\" y1=\"" + num(kTop) + "\" x2=\"" + x + "\" y2=\"" +
                  num(m_h - kBottom) + "\"/>";
        m_axes += "<text class=\"tick\" x=\"" + x + "\" y=\"" + num(m_h - kBottom + 14) + "\" text-anchor=\"middle\">" +
                  xmlEscape(labels[i]) + "</text>";
    }
}

void SvgPlot::yTicks(const std::vector<double>& at, const std::vector<std::string>& labels) {
    for (std::size_t i = 0; i < at.size(); ++i) {
        const std::string y = num(py(at[i]));
        m_axes += "<line class=\"grid\" x1=\"" + num(kLeft) + "\" y1=\"" + y + "\" x2=\"" + num(m_w - kRight) +
                  "\" y2=\"" + y + "\"/>";
        m_axes += "<text class=\"tick\" x=\"" + num(kLeft - 6) + "\" y=\"" + num(py(at[i]) + 4) +
                  "\" text-anchor=\"end\">" + xmlEscape(labels[i]) + "</text>";
    }
}

void SvgPlot::line(const std::vector<double>& x, const std::vector<double>& y, const std::string& series,
                   const std::string& cssClass) {
    // One <polyline> per unbroken run of finite points; all carry the series name.
    std::string points;
    std::size_t count = 0;
    auto flush = [&] {
        if (count > 0) {
            m_body += "<polyline class=\"" + cssClass + "\" data-series=\"" + xmlEscape(series) + "\" points=\"" +
                      points + "\"/>";
        }
        points.clear();
        count = 0;
    };
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (!finite(x[i]) || !finite(y[i])) {
            flush();
            continue;
        }
        if (count > 0) {
            points += ' ';
        }
        points += num(px(x[i]));
        points += ',';
        points += num(py(y[i]));
        ++count;
    }
    flush();
}

void SvgPlot::hline(double y, const std::string& series, const std::string& cssClass, const std::string& label,
                    bool labelLeft) {
    if (!finite(y)) {
        return;
    }
    char value[32];
    std::snprintf(value, sizeof value, "%.2f", y);
    m_body += "<line class=\"" + cssClass + "\" data-series=\"" + xmlEscape(series) + "\" data-value=\"" + value +
              "\" x1=\"" + num(kLeft) + "\" y1=\"" + num(py(y)) + "\" x2=\"" + num(m_w - kRight) + "\" y2=\"" +
              num(py(y)) + "\"/>";
    m_body += "<text class=\"note\" x=\"" + num(labelLeft ? kLeft + 4 : m_w - kRight - 4) + "\" y=\"" +
              num(py(y) + (labelLeft ? 13 : -4)) + "\" text-anchor=\"" + (labelLeft ? "start" : "end") + "\">" +
              xmlEscape(label) + "</text>";
}

void SvgPlot::bars(const std::vector<double>& x, double width, const std::vector<double>& y,
                   const std::string& series, const std::string& cssClass) {
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (!(y[i] > m_y0)) {
            continue;
        }
        const double left = px(x[i]);
        const double right = px(x[i] + width);
        m_body += "<rect class=\"" + cssClass + "\" data-series=\"" + xmlEscape(series) + "\" x=\"" + num(left) +
                  "\" y=\"" + num(py(y[i])) + "\" width=\"" + num(std::max(0.5, right - left - 0.5)) +
                  "\" height=\"" + num(py(m_y0) - py(y[i])) + "\"/>";
    }
}

void SvgPlot::image(const std::string& dataUri) {
    m_body += "<image x=\"" + num(kLeft) + "\" y=\"" + num(kTop) + "\" width=\"" + num(m_w - kLeft - kRight) +
              "\" height=\"" + num(m_h - kTop - kBottom) + "\" preserveAspectRatio=\"none\" href=\"" + dataUri + "\"/>";
}

void SvgPlot::legend(const std::string& label, const std::string& cssClass) { m_legend.emplace_back(label, cssClass); }

std::string SvgPlot::str() const {
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"" + std::to_string(m_w) +
                    "\" height=\"" + std::to_string(m_h) + "\" viewBox=\"0 0 " + std::to_string(m_w) + " " +
                    std::to_string(m_h) + "\" role=\"img\">";
    if (!m_title.empty()) {
        s += "<title>" + xmlEscape(m_title) + "</title>";
    }
    s += "<rect class=\"frame\" x=\"" + num(kLeft) + "\" y=\"" + num(kTop) + "\" width=\"" + num(m_w - kLeft - kRight) +
         "\" height=\"" + num(m_h - kTop - kBottom) + "\"/>";
    s += m_axes;
    s += "<g>" + m_body + "</g>";
    double ly = kTop + 14;
    for (const auto& [label, cls] : m_legend) {
        s += "<line class=\"" + cls + "\" x1=\"" + num(kLeft + 8) + "\" y1=\"" + num(ly - 4) + "\" x2=\"" +
             num(kLeft + 28) + "\" y2=\"" + num(ly - 4) + "\"/><text class=\"legend\" x=\"" + num(kLeft + 32) +
             "\" y=\"" + num(ly) + "\">" + xmlEscape(label) + "</text>";
        ly += 15;
    }
    if (!m_xLabel.empty()) {
        s += "<text class=\"axis\" x=\"" + num((kLeft + m_w - kRight) / 2.0) + "\" y=\"" + num(m_h - 6) +
             "\" text-anchor=\"middle\">" + xmlEscape(m_xLabel) + "</text>";
    }
    if (!m_yLabel.empty()) {
        s += "<text class=\"axis\" x=\"14\" y=\"" + num((kTop + m_h - kBottom) / 2.0) +
             "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " + num((kTop + m_h - kBottom) / 2.0) + ")\">" +
             xmlEscape(m_yLabel) + "</text>";
    }
    s += "</svg>";
    return s;
}

namespace {

void put32(std::string& s, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) {
        s += static_cast<char>((v >> (8 * i)) & 0xff);
    }
}

void chunk(std::string& png, const char* type, const std::string& data) {
    put32(png, static_cast<std::uint32_t>(data.size()));
    std::string typed(type, 4);
    typed += data;
    png += typed;
    put32(png, static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(typed.data()),
                                                static_cast<uInt>(typed.size()))));
}

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                                static_cast<unsigned char>(in[i + 2]);
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += t[v & 63];
    }
    if (i < in.size()) {
        std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) {
            v |= static_cast<unsigned char>(in[i + 1]) << 8;
        }
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

} // namespace

std::string pngDataUri(int width, int height, const std::vector<std::uint8_t>& index,
                       const std::vector<std::uint32_t>& paletteRgb) {
    LATHE_EXPECTS(width > 0 && height > 0 && index.size() == static_cast<std::size_t>(width) * height,
                  "PNG size mismatch");
    std::string png("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    put32(ihdr, static_cast<std::uint32_t>(width));
    put32(ihdr, static_cast<std::uint32_t>(height));
    ihdr += '\x08'; // 8 bits per index
    ihdr += '\x03'; // indexed colour
    ihdr += std::string(3, '\0');
    chunk(png, "IHDR", ihdr);
    std::string plte;
    for (std::uint32_t c : paletteRgb) {
        plte += static_cast<char>((c >> 16) & 0xff);
        plte += static_cast<char>((c >> 8) & 0xff);
        plte += static_cast<char>(c & 0xff);
    }
    chunk(png, "PLTE", plte);
    std::string raw;
    raw.reserve(static_cast<std::size_t>(width + 1) * height);
    for (int y = 0; y < height; ++y) {
        raw += '\0'; // filter: none
        raw.append(reinterpret_cast<const char*>(index.data()) + static_cast<std::size_t>(y) * width,
                   static_cast<std::size_t>(width));
    }
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::string packed(size, '\0');
    if (compress2(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                  static_cast<uLong>(raw.size()), 9) != Z_OK) {
        throw Error(ErrorKind::Internal, "zlib could not compress the spectrogram image");
    }
    packed.resize(size);
    chunk(png, "IDAT", packed);
    chunk(png, "IEND", "");
    return "data:image/png;base64," + base64(png);
}

std::vector<std::uint32_t> heatPalette() {
    // Stops of a magma-like ramp: black → purple → red → orange → pale yellow.
    const double stops[][4] = {{0.0, 0, 0, 4},       {0.25, 80, 18, 123},   {0.5, 182, 54, 121},
                               {0.75, 251, 136, 97}, {1.0, 252, 253, 191}};
    std::vector<std::uint32_t> p(256);
    for (int i = 0; i < 256; ++i) {
        const double t = i / 255.0;
        int k = 0;
        while (k < 3 && t > stops[k + 1][0]) {
            ++k;
        }
        const double u = (t - stops[k][0]) / (stops[k + 1][0] - stops[k][0]);
        auto mix = [&](int c) {
            return static_cast<std::uint32_t>(std::lround(stops[k][c] + u * (stops[k + 1][c] - stops[k][c])));
        };
        p[static_cast<std::size_t>(i)] = (mix(1) << 16) | (mix(2) << 8) | mix(3);
    }
    return p;
}

} // namespace lathe::report
