// Lathe: ChainSource — a source through stages, aligned like a render.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/ChainSource.h>

#include <algorithm>
#include <utility>

namespace lathe {

ChainSource::ChainSource(AudioSource& source, std::vector<Stage*> stages, HostMemory* memory)
    : m_source(source), m_stages(std::move(stages)) {
    // Every buffer a stage is handed or fills (they pass between the four by swaps): in `memory`.
    for (AudioBuffer* b : {&m_in, &m_a, &m_b, &m_pending}) {
        b->useMemory(memory);
    }
    m_format = StreamFormat{source.sampleRate(), source.channelCount(), source.channelLayout()};
    // Latencies are in each stage's own output frames: expressed at the final rate, as render().
    std::vector<SampleRate> rates;
    for (Stage* stage : m_stages) {
        m_format = stage->prepare(m_format, kBlockFrames);
        rates.push_back(m_format.sampleRate);
    }
    for (std::size_t k = 0; k < m_stages.size(); ++k) {
        m_toSkip += convertedFrames(m_stages[k]->latency(), rates[k], m_format.sampleRate);
    }
    m_totalFrames = convertedFrames(source.totalFrames(), source.sampleRate(), m_format.sampleRate);
    m_remaining = m_totalFrames;
    m_pending.reset(m_format.channels, 0);
}

bool ChainSource::pull() {
    // The block to pass on, and the stage it enters (flushed stages pass nothing more).
    AudioBuffer* current = &m_in;
    std::size_t first = 0;
    if (!m_sourceEnded && m_source.read(m_in, kBlockFrames) > 0) {
        first = 0;
    } else {
        m_sourceEnded = true;
        // Flush the first stage not yet done; its output still runs through the ones after it.
        while (m_flushing < m_stages.size()) {
            m_stages[m_flushing]->flush(m_a);
            if (!m_a.empty()) {
                break;
            }
            ++m_flushing;
        }
        if (m_flushing == m_stages.size()) {
            return false;
        }
        current = &m_a;
        first = m_flushing + 1;
    }
    for (std::size_t k = first; k < m_stages.size(); ++k) {
        AudioBuffer& out = current == &m_a ? m_b : m_a;
        m_stages[k]->process(*current, out);
        current = &out;
    }
    Frames offset = std::min(m_toSkip, current->frames());
    m_toSkip -= offset;
    const Frames keep = std::min(current->frames() - offset, m_remaining);
    m_pending.dropFront(m_delivered); // what is left is less than one read
    m_delivered = 0;
    if (m_pending.frames() == 0 && offset == 0 && keep == current->frames()) {
        std::swap(m_pending, *current); // all of it: handed over, not copied (the stages refill theirs)
    } else {
        m_pending.append(*current, offset, keep);
    }
    m_remaining -= keep;
    return true;
}

Frames ChainSource::read(AudioBuffer& dst, Frames maxFrames) {
    while (m_pending.frames() - m_delivered < maxFrames && m_remaining > 0 && pull()) {
    }
    const Frames n = std::min(std::max<Frames>(maxFrames, 0), m_pending.frames() - m_delivered);
    dst.reset(m_format.channels, n);
    dst.append(m_pending, m_delivered, n);
    m_delivered += n;
    return n;
}

} // namespace lathe
