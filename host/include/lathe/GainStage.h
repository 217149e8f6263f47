// Lathe: a fixed gain as a chain stage.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Stage.h>

#include <string>

namespace lathe {

/// A gain in dB applied to every channel (level matching, album gain): y = x · 10^(gainDb/20) in float.
/// Latency 0, no tail.
class GainStage final : public Stage {
public:
    GainStage(double gainDb, std::string name = "gain");
    std::string name() const override { return m_name; }
    StreamFormat prepare(const StreamFormat& input, Frames maxBlockFrames) override;
    void process(const AudioBuffer& in, AudioBuffer& out) override;
    void flush(AudioBuffer& out) override;
    nlohmann::json report() const override;

private:
    double m_gainDb;
    float m_gain;
    std::string m_name;
    int m_channels = 0;
};

} // namespace lathe
