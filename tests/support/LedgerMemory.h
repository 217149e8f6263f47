// Lathe tests: a HostMemory that keeps a ledger of what it has handed out.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/HostMemory.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <map>
#include <mutex>
#include <new>

namespace lathe::test {

/// Heap memory standing in for a device backend's page-locked memory: it knows which addresses
/// are its own, and checks that each comes back once, with its size. Thread-safe.
class LedgerMemory final : public HostMemory {
public:
    void* allocate(std::size_t bytes) override {
        EXPECT_GT(bytes, 0u);
        void* p = ::operator new(bytes);
        std::lock_guard lock(m_mutex);
        m_out.emplace(p, bytes);
        ++m_allocations;
        return p;
    }
    void release(void* p, std::size_t bytes) noexcept override {
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_out.find(p);
            EXPECT_NE(it, m_out.end()) << "released what this memory did not allocate";
            if (it != m_out.end()) {
                EXPECT_EQ(it->second, bytes) << "released with another size";
                m_out.erase(it);
            }
        }
        ::operator delete(p);
    }
    /// Whether `p` lies in one of the allocations still out.
    bool holds(const void* p) const {
        std::lock_guard lock(m_mutex);
        const auto* q = static_cast<const char*>(p);
        auto it = m_out.upper_bound(const_cast<void*>(p));
        if (it == m_out.begin()) {
            return false;
        }
        --it;
        const auto* base = static_cast<const char*>(it->first);
        return q >= base && q < base + it->second;
    }
    std::size_t outstanding() const {
        std::lock_guard lock(m_mutex);
        return m_out.size();
    }
    int allocations() const {
        std::lock_guard lock(m_mutex);
        return m_allocations;
    }

private:
    mutable std::mutex m_mutex;
    std::map<void*, std::size_t> m_out;
    int m_allocations = 0;
};

} // namespace lathe::test
