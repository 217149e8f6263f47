// Lathe (engine-private): a render's output held in memory, to be read again.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioSource.h>
#include <lathe/Master.h>
#include <lathe/RenderJob.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace lathe::detail {

/// An OutputTap that keeps the output it sees (planar float, one array per channel) and passes
/// each block on to another tap. source() reads it back from the start, as often as asked. The
/// samples are exactly those a 32-bit float file of the output would hold: a targeted master's
/// intermediate, when it fits in memory, is neither written to a file nor decoded back.
class HeldAudio final : public OutputTap {
public:
    /// `name` names the held audio in messages; `next` (not owned, may be null) sees every block too.
    /// Maps room for `expectedFrames` of `channels` now (begin() maps again should the render be
    /// longer): throws std::bad_alloc when the address space cannot take it, before any render.
    HeldAudio(std::string name, int channels, Frames expectedFrames, OutputTap* next = nullptr);
    ~HeldAudio() override;
    HeldAudio(const HeldAudio&) = delete;
    HeldAudio& operator=(const HeldAudio&) = delete;

    /// Takes `channels` (the constructor's) × length floats; their pages are made ready on a thread
    /// of its own.
    void begin(SampleRate rate, int channels, const ChannelLayout& layout, Frames length) override;
    void write(const AudioBuffer& block) override;
    void finish() override;

    /// Bytes held (the channels × length floats begin() allocated).
    std::uint64_t bytes() const;

    /// A reader of the held audio from its first frame, once finish() has been called. Reads fill
    /// all they ask for until the end, as a file reader's do. This object must outlive it.
    std::unique_ptr<AudioSource> source() const;

private:
    class Reader;
    float* channel(int c) const { return m_data + static_cast<std::size_t>(c) * m_stride; }
    /// (Re)maps room for `frames` of every channel.
    void map(Frames frames);

    std::string m_name;
    OutputTap* m_next;
    SampleRate m_rate = 0;
    ChannelLayout m_layout;
    Frames m_length = 0;
    int m_channelCount;
    Frames m_written = 0;
    bool m_begun = false;
    bool m_finished = false;
    std::size_t m_stride = 0;      ///< floats from one channel's start to the next's (whole pages)
    std::size_t m_mappedBytes = 0; ///< of the anonymous mapping at m_data
    float* m_data = nullptr;
    std::atomic<bool> m_stopPopulating{false};
    std::thread m_populating; ///< makes the mapping's pages ready ahead of the writes
};

/// Bytes of `frames` × `channels` float samples.
std::uint64_t floatBytes(Frames frames, int channels);

/// The memory this process may still take now: the machine's available memory (MemAvailable of
/// /proc/meminfo: free memory and the page cache that can be dropped, or half the physical memory
/// where that cannot be read), at most what its memory cgroup's limit leaves (a container's, or a
/// batch scheduler's job: v1 and v2).
std::uint64_t availableMemoryBytes();

/// The memory a targeted master may hold its intermediate in: `setting`
/// (MasterSettings::intermediateMemoryBytes) when given, else kIntermediateMemoryBytes at most
/// half of availableMemoryBytes() — read only then.
std::uint64_t intermediateMemoryBudget(const std::optional<std::uint64_t>& setting);

/// What the memory cgroups named in `selfCgroup` (/proc/self/cgroup's format) still allow, with
/// the hierarchies mounted at `root` (/sys/fs/cgroup): the limit less the usage (the page cache
/// counted: on the safe side), the tightest of the cgroup's own and its ancestors' on v2 (a batch
/// scheduler limits the job, not its task); v1's at the cgroup's path or, in a container, the
/// mount's root. nullopt without a limit.
std::optional<std::uint64_t> cgroupRoom(const std::filesystem::path& selfCgroup,
                                        const std::filesystem::path& root);

} // namespace lathe::detail
