// Lathe: filter designs shared by renders that use the same settings at the same rate.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Types.h>
#include <lathe/design/Crossover.h>
#include <lathe/design/EqDesign.h>

#include <cstddef>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace lathe::design {

/// The EQ and crossover designs of renders that share settings — a batch's jobs run one preset
/// over every file, and each master designed its 65535-tap EQ and its crossover again (a quarter
/// of a second of a one-thread job's 3 s for a 3-minute song). Each design is made once, by the
/// first render that asks; one that asks meanwhile waits for it. A design is deterministic and the
/// same to the bit on any number of threads, so a shared one equals the render's own.
///
/// Owned by whoever runs the renders (lathe batch) and passed down explicitly; thread-safe. Holds
/// at most kDesignCacheEntries designs (a batch has one preset, and one per output rate).
class DesignCache {
public:
    std::shared_ptr<const EqDesign> eq(const EqSpec& spec, SampleRate fs, unsigned threads);
    std::shared_ptr<const CrossoverDesign> crossover(const std::vector<double>& splitsHz,
                                                     int slopeDbPerOctave, SampleRate fs, int taps,
                                                     unsigned threads);

    struct Counts {
        std::size_t designed = 0; ///< designs made
        std::size_t reused = 0;   ///< requests answered with one made before (or being made)
    };
    Counts counts() const;

private:
    using Made = std::shared_future<std::shared_ptr<const void>>;
    template <typename Design, typename Make>
    std::shared_ptr<const Design> get(const std::string& key, Make make);

    mutable std::mutex m_mutex;
    std::map<std::string, Made> m_made;
    std::vector<std::string> m_order; ///< keys, oldest first (the first to go when full)
    Counts m_counts;
};

/// Designs a DesignCache keeps; beyond it the oldest goes.
inline constexpr std::size_t kDesignCacheEntries = 16;

} // namespace lathe::design
