// Lathe: strict reading of JSON objects (presets, speaker models): types and ranges checked, unknown
// keys refused with a did-you-mean hint. Internal to the engine.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Error.h>
#include <lathe/Text.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace lathe::detail {

inline std::size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

inline std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) {
        if (!s.empty()) {
            s += ", ";
        }
        s += x;
    }
    return s;
}

/// Reads the keys of one JSON object, checking types and ranges; finish() rejects keys nobody read.
class JsonFields {
public:
    /// `messagePrefix` starts every error message ("preset 'x': band 2 ", "speaker model f.json: ").
    JsonFields(const nlohmann::json& obj, std::string messagePrefix)
        : m_obj(obj), m_prefix(std::move(messagePrefix)) {
        if (!obj.is_object()) {
            throw UsageError(prefix() + "must be a JSON object");
        }
    }

    [[noreturn]] void fail(const std::string& key, const std::string& message) const {
        throw UsageError(prefix() + "'" + key + "': " + message);
    }

    const nlohmann::json* raw(const std::string& key) {
        m_known.push_back(key);
        const auto it = m_obj.find(key);
        return it == m_obj.end() ? nullptr : &*it;
    }

    double number(const std::string& key, double fallback, double lo, double hi) {
        const nlohmann::json* v = raw(key);
        if (v == nullptr) {
            return fallback;
        }
        if (!v->is_number()) {
            fail(key, "must be a number, not " + v->dump());
        }
        const double x = v->get<double>();
        if (!(x >= lo && x <= hi)) {
            fail(key, formatNumber(x) + " is outside [" + formatNumber(lo) + ", " + formatNumber(hi) + "]");
        }
        return x;
    }

    bool boolean(const std::string& key, bool fallback) {
        const nlohmann::json* v = raw(key);
        if (v == nullptr) {
            return fallback;
        }
        if (!v->is_boolean()) {
            fail(key, "must be true or false, not " + v->dump());
        }
        return v->get<bool>();
    }

    std::optional<std::string> text(const std::string& key) {
        const nlohmann::json* v = raw(key);
        if (v == nullptr) {
            return std::nullopt;
        }
        if (!v->is_string()) {
            fail(key, "must be a string, not " + v->dump());
        }
        return v->get<std::string>();
    }

    std::string choice(const std::string& key, const std::string& fallback,
                       const std::vector<std::string>& allowed) {
        const std::string v = text(key).value_or(fallback);
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
            fail(key, "'" + v + "' is not one of " + joined(allowed));
        }
        return v;
    }

    void finish() const {
        for (const auto& [key, value] : m_obj.items()) {
            if (std::find(m_known.begin(), m_known.end(), key) != m_known.end()) {
                continue;
            }
            std::string hint;
            for (const auto& k : m_known) {
                const std::string lower = toLower(key);
                if (editDistance(lower, k) <= 2 || k.rfind(lower, 0) == 0 || lower.rfind(k, 0) == 0) {
                    hint = "; did you mean '" + k + "'?";
                    break;
                }
            }
            throw UsageError(prefix() + "unknown field '" + key + "'" + hint + " (known: " + joined(m_known) +
                             ")");
        }
    }

    const std::string& prefix() const { return m_prefix; }

    static std::string formatNumber(double x) {
        std::ostringstream s;
        s << x;
        return s.str();
    }

private:
    const nlohmann::json& m_obj;
    std::string m_prefix;
    std::vector<std::string> m_known;
};

} // namespace lathe::detail
