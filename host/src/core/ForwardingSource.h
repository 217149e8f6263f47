// Lathe (engine-private): a source that is another source read differently.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioSource.h>

namespace lathe::detail {

/// An AudioSource over another one (read ahead on a worker, shown to a tap as it is read): every
/// fact is the source's, so a consumer decides as it would reading the source itself (dither, the
/// input's path, its warnings); read() is the subclass's.
class ForwardingSource : public AudioSource {
public:
    explicit ForwardingSource(AudioSource& source) : m_source(source) {}

    std::string sourceName() const override { return m_source.sourceName(); }
    SampleRate sampleRate() const override { return m_source.sampleRate(); }
    int channelCount() const override { return m_source.channelCount(); }
    ChannelLayout channelLayout() const override { return m_source.channelLayout(); }
    Frames totalFrames() const override { return m_source.totalFrames(); }
    int integerBits() const override { return m_source.integerBits(); }
    std::optional<std::filesystem::path> filePath() const override { return m_source.filePath(); }
    std::vector<std::string> warnings() const override { return m_source.warnings(); }

protected:
    AudioSource& m_source;
};

} // namespace lathe::detail
