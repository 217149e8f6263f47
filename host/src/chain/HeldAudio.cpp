// SPDX-License-Identifier: GPL-3.0-or-later
#include "HeldAudio.h"

#include <lathe/Error.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <new>
#include <optional>
#include <sstream>
#include <sys/mman.h>
#include <unistd.h>

namespace lathe::detail {

namespace {

/// Frames of every channel one call of the page population makes ready (4 MB of a channel).
constexpr Frames kPopulateFrames = Frames{1} << 20;
/// Floats per page: every channel starts on a page of its own (madvise wants page-aligned ranges).
constexpr std::size_t kPageFloats = 4096 / sizeof(float);

} // namespace

class HeldAudio::Reader final : public AudioSource {
public:
    explicit Reader(const HeldAudio& held) : m_held(held) {}

    std::string sourceName() const override { return m_held.m_name; }
    SampleRate sampleRate() const override { return m_held.m_rate; }
    int channelCount() const override { return m_held.m_channelCount; }
    ChannelLayout channelLayout() const override { return m_held.m_layout; }
    Frames totalFrames() const override { return m_held.m_length; }
    int integerBits() const override { return 0; } // float samples, as a float file's

    Frames read(AudioBuffer& dst, Frames maxFrames) override {
        const Frames n = std::clamp<Frames>(m_held.m_length - m_position, 0, std::max<Frames>(maxFrames, 0));
        dst.reset(channelCount(), n);
        dst.setFrames(n);
        for (int c = 0; c < channelCount(); ++c) {
            std::copy_n(m_held.channel(c) + m_position, n, dst.channel(c));
        }
        m_position += n;
        return n;
    }

private:
    const HeldAudio& m_held;
    Frames m_position = 0;
};

HeldAudio::HeldAudio(std::string name, int channels, Frames expectedFrames, OutputTap* next)
    : m_name(std::move(name)), m_next(next), m_channelCount(channels) {
    LATHE_EXPECTS(channels > 0 && expectedFrames >= 0, "HeldAudio: no channels");
    map(expectedFrames);
}

HeldAudio::~HeldAudio() {
    m_stopPopulating = true;
    if (m_populating.joinable()) {
        m_populating.join();
    }
    ::munmap(m_data, m_mappedBytes);
}

void HeldAudio::map(Frames frames) {
    const std::size_t stride =
        (static_cast<std::size_t>(frames) + kPageFloats - 1) / kPageFloats * kPageFloats;
    const std::size_t bytes =
        std::max<std::size_t>(stride * static_cast<std::size_t>(m_channelCount) * sizeof(float), 1);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        throw std::bad_alloc();
    }
    if (m_data != nullptr) {
        ::munmap(m_data, m_mappedBytes);
    }
    m_data = static_cast<float*>(p);
    m_stride = stride;
    m_mappedBytes = bytes;
}

void HeldAudio::begin(SampleRate rate, int channels, const ChannelLayout& layout, Frames length) {
    LATHE_EXPECTS(!m_begun && channels == m_channelCount && length >= 0,
                  "a HeldAudio holds one render of the channels it was made for");
    m_begun = true;
    m_rate = rate;
    m_layout = layout;
    m_length = length;
    if (static_cast<std::size_t>(length) > m_stride) { // a tail longer than expected: nothing is written yet
        map(length);
    }
    // The pages are made ready (the kernel's zeroing of each, 0.4 s per 0.69 GB on the 2-vCPU
    // development machine, more than the copies into them) on a thread of its own, ahead of the
    // writes, in the order they come — instead of one fault per page on the thread that writes.
    // MADV_POPULATE_WRITE leaves the contents alone, so it may run behind the writes too; where
    // the kernel lacks it (before Linux 5.14), the writes fault as they go.
    m_populating = std::thread([this] {
        for (Frames f = 0; f < m_length && !m_stopPopulating; f += kPopulateFrames) {
            const std::size_t bytes =
                static_cast<std::size_t>(std::min(kPopulateFrames, m_length - f)) * sizeof(float);
            for (int c = 0; c < m_channelCount; ++c) {
                if (::madvise(channel(c) + f, bytes, MADV_POPULATE_WRITE) != 0) {
                    return;
                }
            }
        }
    });
    if (m_next != nullptr) {
        m_next->begin(rate, channels, layout, length);
    }
}

void HeldAudio::write(const AudioBuffer& block) {
    LATHE_EXPECTS(block.channels() == m_channelCount && block.frames() <= m_length - m_written,
                  "HeldAudio: a block beyond the length begin() announced");
    for (int c = 0; c < block.channels(); ++c) {
        std::copy_n(block.channel(c), block.frames(), channel(c) + m_written);
    }
    m_written += block.frames();
    if (m_next != nullptr) {
        m_next->write(block);
    }
}

void HeldAudio::finish() {
    LATHE_EXPECTS(m_written == m_length, "HeldAudio: " + std::to_string(m_written) + " of " +
                                             std::to_string(m_length) + " frames written");
    m_finished = true;
    if (m_next != nullptr) {
        m_next->finish();
    }
}

std::uint64_t HeldAudio::bytes() const {
    return floatBytes(m_length, m_channelCount);
}

std::unique_ptr<AudioSource> HeldAudio::source() const {
    LATHE_EXPECTS(m_finished, "HeldAudio::source() before the render finished");
    return std::make_unique<Reader>(*this);
}

std::uint64_t floatBytes(Frames frames, int channels) {
    return static_cast<std::uint64_t>(std::max<Frames>(frames, 0)) *
           static_cast<std::uint64_t>(std::max(channels, 0)) * sizeof(float);
}

namespace {

/// The first number in a file (nullopt when unreadable or not a number, e.g. cgroup v2's "max").
std::optional<std::uint64_t> numberIn(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::uint64_t value = 0;
    if (in >> value) {
        return value;
    }
    return std::nullopt;
}

} // namespace

std::optional<std::uint64_t> cgroupRoom(const std::filesystem::path& selfCgroup,
                                        const std::filesystem::path& root) {
    std::ifstream self(selfCgroup);
    std::string line;
    std::optional<std::uint64_t> room;
    auto tighten = [&](std::optional<std::uint64_t> limit, std::optional<std::uint64_t> usage) {
        if (limit && *limit < (std::uint64_t{1} << 60)) { // v1 writes "no limit" as about 2^63
            const std::uint64_t left = usage && *usage < *limit ? *limit - *usage : 0;
            room = room ? std::min(*room, left) : left;
        }
    };
    while (std::getline(self, line)) {
        const auto colon = line.find(':');
        const auto second = line.find(':', colon + 1);
        if (colon == std::string::npos || second == std::string::npos) {
            continue;
        }
        const std::string controllers = line.substr(colon + 1, second - colon - 1);
        std::filesystem::path path = line.substr(second + 1);
        if (controllers.empty()) { // v2: this cgroup and its ancestors, as mounted here
            for (std::filesystem::path p = path;; p = p.parent_path()) {
                const std::filesystem::path dir = root / p.relative_path();
                tighten(numberIn(dir / "memory.max"), numberIn(dir / "memory.current"));
                if (!p.has_relative_path()) {
                    break;
                }
            }
        } else if (controllers == "memory") { // v1: a container sees its own cgroup at the root
            for (const std::filesystem::path& dir :
                 {root / "memory" / path.relative_path(), root / "memory"}) {
                if (std::filesystem::exists(dir / "memory.limit_in_bytes")) {
                    tighten(numberIn(dir / "memory.limit_in_bytes"), numberIn(dir / "memory.usage_in_bytes"));
                    break;
                }
            }
        }
    }
    return room;
}

std::uint64_t availableMemoryBytes() {
    std::optional<std::uint64_t> available;
    std::ifstream meminfo("/proc/meminfo");
    std::string line;
    while (std::getline(meminfo, line)) {
        if (line.rfind("MemAvailable:", 0) == 0) {
            std::istringstream fields(line.substr(13));
            std::uint64_t kib = 0;
            if (fields >> kib) {
                available = kib * 1024;
            }
        }
    }
    if (!available) {
        const long pages = ::sysconf(_SC_PHYS_PAGES);
        const long pageSize = ::sysconf(_SC_PAGE_SIZE);
        available = pages > 0 && pageSize > 0
                        ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize) / 2
                        : 0;
    }
    if (const auto room = cgroupRoom("/proc/self/cgroup", "/sys/fs/cgroup")) {
        return std::min(*available, *room);
    }
    return *available;
}

std::uint64_t intermediateMemoryBudget(const std::optional<std::uint64_t>& setting) {
    return setting ? *setting : std::min(kIntermediateMemoryBytes, availableMemoryBytes() / 2);
}

} // namespace lathe::detail
