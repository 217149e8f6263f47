// Lathe: where sample buffers that a device copies live.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// A device backend copies blocks between host and device memory. From ordinary (pageable) memory
// the driver stages every copy through page-locked buffers of its own, at a fraction of the bus's
// speed (the hour's master on the H200: 8.3 GB up in 1.10 s, 7.5 GB/s); from page-locked memory the
// copy engine reads the buffer itself. Backend::hostMemory() says which memory a backend wants for
// the buffers handed to its operations, and AudioBuffer::useMemory() puts a buffer's samples there.
#pragma once

#include <cstddef>

namespace lathe {

/// An allocator of host memory for sample buffers. Implementations are stateless and live for
/// the whole process (a buffer may outlive the backend that asked for it).
class HostMemory {
public:
    virtual ~HostMemory() = default;
    /// `bytes` (> 0) of memory aligned for any sample type. Throws on failure (GpuError for
    /// page-locked memory, so that --backend auto reruns the job on the CPU).
    virtual void* allocate(std::size_t bytes) = 0;
    /// Returns what allocate() gave, with the same `bytes`.
    virtual void release(void* p, std::size_t bytes) noexcept = 0;
};

} // namespace lathe
