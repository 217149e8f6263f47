// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/design/DesignCache.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <utility>

namespace lathe::design {
namespace {

/// Appends `v` exactly (hexadecimal floating point): two keys are equal only for equal values.
void put(std::string& key, double v) {
    char text[40];
    std::snprintf(text, sizeof text, "%a,", v);
    key += text;
}

void put(std::string& key, long long v) {
    key += std::to_string(v);
    key += ',';
}

std::string eqKey(const EqSpec& spec, SampleRate fs) {
    std::string key = "eq:";
    put(key, static_cast<long long>(fs));
    put(key, static_cast<long long>(spec.taps));
    put(key, spec.goalDb);
    for (const EqBand& b : spec.bands) {
        key += "b:";
        put(key, static_cast<long long>(b.type));
        put(key, b.hz);
        put(key, b.gainDb);
        put(key, b.q);
        put(key, static_cast<long long>(b.slopeDbPerOctave));
        put(key, static_cast<long long>(b.placement));
        put(key, static_cast<long long>(b.enabled));
    }
    for (const EqCurvePoint& p : spec.curve) {
        key += "c:";
        put(key, p.hz);
        put(key, p.gainDb);
    }
    return key;
}

} // namespace

template <typename Design, typename Make>
std::shared_ptr<const Design> DesignCache::get(const std::string& key, Make make) {
    std::promise<std::shared_ptr<const void>> promise;
    Made made;
    {
        std::lock_guard lock(m_mutex);
        if (const auto it = m_made.find(key); it != m_made.end()) {
            ++m_counts.reused;
            made = it->second;
        } else {
            made = promise.get_future().share();
            m_made.emplace(key, made);
            m_order.push_back(key);
            if (m_order.size() > kDesignCacheEntries) { // those waiting for it hold their own future
                m_made.erase(m_order.front());
                m_order.erase(m_order.begin());
            }
            ++m_counts.designed;
            made = {}; // this caller makes it
        }
    }
    if (made.valid()) {
        return std::static_pointer_cast<const Design>(made.get()); // rethrows the maker's error
    }
    try {
        std::shared_ptr<const Design> design = std::make_shared<const Design>(make());
        promise.set_value(design);
        return design;
    } catch (...) {
        promise.set_exception(std::current_exception());
        std::lock_guard lock(m_mutex);
        // A design that failed is not kept: the next render asks again (and fails with its own error).
        if (m_made.erase(key) > 0) {
            m_order.erase(std::find(m_order.begin(), m_order.end(), key));
        }
        --m_counts.designed;
        throw;
    }
}

std::shared_ptr<const EqDesign> DesignCache::eq(const EqSpec& spec, SampleRate fs, unsigned threads) {
    return get<EqDesign>(eqKey(spec, fs), [&] { return designEq(spec, fs, threads); });
}

std::shared_ptr<const CrossoverDesign> DesignCache::crossover(const std::vector<double>& splitsHz,
                                                              int slopeDbPerOctave, SampleRate fs, int taps,
                                                              unsigned threads) {
    std::string key = "crossover:";
    put(key, static_cast<long long>(fs));
    put(key, static_cast<long long>(slopeDbPerOctave));
    put(key, static_cast<long long>(taps));
    for (double hz : splitsHz) {
        put(key, hz);
    }
    return get<CrossoverDesign>(
        key, [&] { return designCrossover(splitsHz, slopeDbPerOctave, fs, taps, threads); });
}

DesignCache::Counts DesignCache::counts() const {
    std::lock_guard lock(m_mutex);
    return m_counts;
}

} // namespace lathe::design
