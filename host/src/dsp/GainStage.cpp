// Lathe: GainStage.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/GainStage.h>
#include <lathe/math/Dynamics.h>

namespace lathe {

GainStage::GainStage(double gainDb, std::string name)
    : m_gainDb(gainDb), m_gain(static_cast<float>(math::dbToLinear(gainDb))), m_name(std::move(name)) {}

StreamFormat GainStage::prepare(const StreamFormat& input, Frames) {
    m_channels = input.channels;
    return input;
}

void GainStage::process(const AudioBuffer& in, AudioBuffer& out) {
    out.reset(in.channels(), in.frames());
    out.setFrames(in.frames());
    for (int c = 0; c < in.channels(); ++c) {
        const float* x = in.channel(c);
        float* y = out.channel(c);
        for (Frames i = 0; i < in.frames(); ++i) {
            y[i] = x[i] * m_gain;
        }
    }
}

void GainStage::flush(AudioBuffer& out) {
    out.reset(m_channels, 0);
}

nlohmann::json GainStage::report() const {
    return {{"gain_db", m_gainDb}};
}

} // namespace lathe
