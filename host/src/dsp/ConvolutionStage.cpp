// SPDX-License-Identifier: GPL-3.0-or-later
#include "../core/ThreadPool.h"

#include <lathe/AudioReader.h>
#include <lathe/ConvolutionStage.h>
#include <lathe/Error.h>
#include <lathe/ResampleStage.h>
#include <lathe/Text.h>
#include <lathe/design/Rooms.h>
#include <lathe/math/Spectral.h>

#include <algorithm>
#include <cmath>

namespace lathe {
namespace {

/// Partitions emitted per flush() call: bounds the memory of a long tail.
constexpr Frames kFlushBlocks = 24;

float dbToGain(double db) {
    return static_cast<float>(std::pow(10.0, db / 20.0));
}

} // namespace

// ---------------------------------------------------------------------------------------------
// ConvolutionStage

ConvolutionStage::ConvolutionStage(Backend& backend, ConvolverOptions options)
    : m_backend(backend), m_options(options) {}

StreamFormat ConvolutionStage::prepare(const StreamFormat& input, Frames maxBlockFrames) {
    Design d = design(input);
    LATHE_EXPECTS(!d.dryGain || d.latency == 0, "a convolution stage's dry path needs zero latency");
    m_latency = d.latency;
    m_tail = d.tail;
    m_bypass = d.bypass;
    m_dryGain = d.dryGain;
    m_channels = input.channels;
    m_inputFrames = 0;
    m_emitted = 0;
    if (!m_bypass) {
        LATHE_EXPECTS(d.matrix.inputs == input.channels && (combines() || d.matrix.outputs == input.channels),
                      "a convolution stage keeps the channel count");
        ConvolverOptions options = m_options;
        options.outputOnDevice = d.outputOnDevice;
        m_convolver = m_backend.makeConvolver(d.matrix, options);
        // What the convolver reads and writes lives where the backend copies it fastest.
        m_pending.useMemory(m_backend.hostMemory());
        m_filtered.useMemory(m_backend.hostMemory());
        m_pending.reset(input.channels, m_convolver->preferredFrames() + maxBlockFrames);
    }
    return input;
}

void ConvolutionStage::run(const AudioBuffer& in, AudioBuffer& out) {
    // Convolve `in` (whole partitions) and add the dry path.
    out.useMemory(m_backend.hostMemory()); // a render's is there already (StageLine); not every driver's
    if (combines()) {
        m_convolver->process(in, m_filtered);
        combine(m_filtered, in, out);
        m_emitted += in.frames();
        return;
    }
    m_convolver->process(in, out);
    if (m_dryGain) {
        const float g = *m_dryGain;
        for (int c = 0; c < m_channels; ++c) {
            float* y = out.channel(c);
            const float* x = in.channel(c);
            for (Frames n = 0; n < in.frames(); ++n) {
                y[n] = math::mixDry(y[n], x[n], g);
            }
        }
    }
    m_emitted += in.frames();
}

void ConvolutionStage::run(AudioBuffer& pending, Frames frames, AudioBuffer& out) {
    // The first `frames` (whole partitions) of `pending`, then drop them.
    const Frames held = pending.frames();
    pending.setFrames(frames);
    run(pending, out);
    pending.setFrames(held);
    pending.dropFront(frames);
}

void ConvolutionStage::process(const AudioBuffer& in, AudioBuffer& out) {
    if (m_bypass) {
        out.reset(in.channels(), in.frames());
        out.append(in, 0, in.frames());
        return;
    }
    m_inputFrames += in.frames();
    const Frames block = m_convolver->blockFrames();
    if (m_pending.empty() && in.frames() % block == 0 && in.frames() >= m_convolver->preferredFrames()) {
        // Whole partitions and nothing held back (the usual case): convolve the block in place.
        if (in.frames() == 0) {
            out.reset(m_channels, 0);
            return;
        }
        run(in, out);
        return;
    }
    m_pending.append(in, 0, in.frames());
    const Frames whole = m_pending.frames() / block * block;
    if (whole < m_convolver->preferredFrames()) {
        out.reset(m_channels, 0);
        return;
    }
    run(m_pending, whole, out);
}

void ConvolutionStage::flush(AudioBuffer& out) {
    if (m_bypass) {
        out.reset(m_channels, 0);
        return;
    }
    // The stage owes latency + input + tail frames in total; the input has ended, so what is still
    // pending is followed by zeros.
    const Frames remaining = m_latency + m_inputFrames + m_tail - m_emitted;
    if (remaining <= 0) {
        out.reset(m_channels, 0);
        return;
    }
    const Frames block = m_convolver->blockFrames();
    const Frames want = std::min(remaining, kFlushBlocks * block);
    const Frames frames = (want + block - 1) / block * block;
    const Frames have = m_pending.frames();
    if (have < frames) {
        m_pending.setFrames(frames);
        for (int c = 0; c < m_channels; ++c) {
            std::fill(m_pending.channel(c) + have, m_pending.channel(c) + frames, 0.0f);
        }
    }
    run(m_pending, frames, out);
    if (frames > want) {
        // The zero padding beyond what is owed: its output is not part of the stream.
        out.setFrames(want);
        m_emitted -= frames - want;
        m_pending.reset(m_channels, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// EqStage

EqStage::EqStage(design::EqSpec spec, Backend& backend, ConvolverOptions options,
                 design::DesignCache* designs)
    : ConvolutionStage(backend, options), m_spec(std::move(spec)), m_designs(designs) {}

ConvolutionStage::Design EqStage::design(const StreamFormat& input) {
    m_rate = input.sampleRate;
    design::EqSpec spec = m_spec;
    std::string note;
    if (design::usesMidSide(spec) && input.channels != 2) {
        // Mid and side exist for stereo only. Elsewhere every channel is "mid" (a mono file is
        // all mid; its side is silent): mid bands apply to every channel, side bands are left out.
        int sideBands = 0;
        for (auto& b : spec.bands) {
            if (b.placement == design::EqPlacement::Side && b.enabled) {
                b.enabled = false;
                ++sideBands;
            }
            b.placement = design::EqPlacement::Stereo;
        }
        note = "the input has " + std::to_string(input.channels) + " channel" +
               (input.channels == 1 ? "" : "s") + ", not stereo: mid bands apply to every channel";
        if (sideBands > 0) {
            note += ", " + std::to_string(sideBands) + " side band" + (sideBands == 1 ? " is" : "s are") +
                    " left out";
        }
    }
    const unsigned threads = detail::threadBudget(convolverOptions().threads);
    m_design = m_designs != nullptr ? *m_designs->eq(spec, input.sampleRate, threads)
                                    : design::designEq(spec, input.sampleRate, threads);
    if (!note.empty()) {
        m_design.warnings.insert(m_design.warnings.begin(), note);
    }
    Design d;
    auto toFloat = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
    if (!m_design.midSide) {
        const auto& h = m_design.stereo.taps;
        d.latency = m_design.stereo.delay;
        d.bypass = h.size() == 1 && h[0] == 1.0;
        d.matrix = FilterMatrix::diagonal(input.channels, toFloat(h));
        return d;
    }
    // L' = a·L + b·R, R' = b·L + a·R with a = (m + s)/2, b = (m − s)/2 filters M by m and S by s.
    const auto& m = m_design.mid.taps;
    const auto& s = m_design.side.taps;
    std::vector<float> a(m.size());
    std::vector<float> b(m.size());
    for (std::size_t k = 0; k < m.size(); ++k) {
        a[k] = static_cast<float>(0.5 * (m[k] + s[k]));
        b[k] = static_cast<float>(0.5 * (m[k] - s[k]));
    }
    d.latency = m_design.mid.delay;
    d.matrix.inputs = 2;
    d.matrix.outputs = 2;
    d.matrix.filters = {std::move(a), std::move(b)};
    d.matrix.paths = {{0, 0, 0}, {1, 1, 0}, {1, 0, 1}, {0, 1, 1}};
    return d;
}

nlohmann::json EqStage::report() const {
    const design::FirDesign& f = m_design.midSide ? m_design.mid : m_design.stereo;
    nlohmann::json j;
    j["taps"] = m_design.taps;
    j["taps_chosen"] = m_design.automaticLength ? "automatic" : "preset";
    j["latency_frames"] = f.delay;
    j["latency_ms"] = m_rate > 0 ? 1e3 * static_cast<double>(f.delay) / m_rate : 0.0;
    j["pre_ring_ms"] =
        1e3 * std::max(m_design.midSide ? m_design.side.preRingSeconds : 0.0, f.preRingSeconds);
    j["max_error_db"] = m_design.maxErrorDb;
    j["max_error_hz"] = m_design.maxErrorHz;
    j["mid_side"] = m_design.midSide;
    j["warnings"] = m_design.warnings;
    return j;
}

// ---------------------------------------------------------------------------------------------
// ReverbStage

ReverbStage::ReverbStage(ReverbSpec spec, Backend& backend, ConvolverOptions options)
    : ConvolutionStage(backend, options), m_spec(std::move(spec)) {}

ConvolutionStage::Design ReverbStage::design(const StreamFormat& input) {
    m_rate = input.sampleRate;
    // 1. The IR, per channel, at its own rate.
    std::vector<std::vector<float>> ir;
    if (m_spec.irFile) {
        const std::filesystem::path& path = *m_spec.irFile;
        AudioReader reader(path);
        const AudioFileInfo& info = reader.info();
        m_facts.source = path.string();
        m_facts.irRate = info.sampleRate;
        if (info.channels != 1 && info.channels != 2 && info.channels != 4) {
            throw InputError(path,
                             "an impulse response has 1 (mono), 2 (stereo) or 4 (true stereo: LL LR RL RR) "
                             "channels, not " +
                                 std::to_string(info.channels));
        }
        if (info.frames > kMaxIrFrames * 8) {
            throw InputError(path,
                             "impulse response too long (" + formatDuration(info.durationSeconds()) + ")");
        }
        ir.assign(static_cast<std::size_t>(info.channels), {});
        AudioBuffer block;
        while (reader.read(block, 65536) > 0) {
            for (int c = 0; c < info.channels; ++c) {
                ir[static_cast<std::size_t>(c)].insert(ir[static_cast<std::size_t>(c)].end(),
                                                       block.channel(c), block.channel(c) + block.frames());
            }
        }
        for (std::size_t c = 0; c < ir.size(); ++c) {
            for (std::size_t n = 0; n < ir[c].size(); ++n) {
                if (!math::isFiniteSample(ir[c][n])) {
                    throw InputError(path, "the impulse response has a NaN or infinite sample (channel " +
                                               std::to_string(c + 1) + ", frame " + std::to_string(n) + ")");
                }
            }
        }
    } else {
        const design::RoomSpec* room = design::findRoom(m_spec.room);
        if (room == nullptr) {
            throw UsageError("unknown room '" + m_spec.room + "'");
        }
        // Generated directly at the stream's rate (no resampling needed).
        const AudioBuffer g = design::generateRoomIr(*room, input.sampleRate);
        // Stereo for stereo input; any other channel count gets the room's first channel on every
        // channel (a mono IR), so the bundled room presets work on mono and surround files too.
        for (int c = 0; c < (input.channels == 2 ? g.channels() : 1); ++c) {
            ir.emplace_back(g.channel(c), g.channel(c) + g.frames());
        }
        m_facts.source = "room:" + room->name;
        m_facts.irRate = input.sampleRate;
    }
    m_facts.irChannels = static_cast<int>(ir.size());
    const std::string what = m_facts.source;
    // 2. Channel routing.
    const int channels = input.channels;
    if ((m_facts.irChannels == 2 || m_facts.irChannels == 4) && channels != 2) {
        throw UsageError("the impulse response " + what + " has " + std::to_string(m_facts.irChannels) +
                         " channels, which needs stereo input; this input has " + std::to_string(channels) +
                         " (use a mono IR)");
    }
    // 3. Rate, trim, energy.
    for (auto& h : ir) {
        h = resampleSignal(h, m_facts.irRate, input.sampleRate);
        if (h.empty()) {
            throw UsageError("the impulse response " + what + " is shorter than one sample at " +
                             std::to_string(input.sampleRate) + " Hz");
        }
    }
    float peak = 0.0f;
    for (const auto& h : ir) {
        for (float v : h) {
            peak = std::max(peak, std::abs(v));
        }
    }
    if (peak == 0.0f) {
        throw UsageError("the impulse response " + what + " is silent (no energy)");
    }
    const float trim = peak * dbToGain(kIrTrimDb);
    std::size_t keep = 0;
    for (const auto& h : ir) {
        for (std::size_t n = h.size(); n > keep; --n) {
            if (std::abs(h[n - 1]) >= trim) {
                keep = n;
                break;
            }
        }
    }
    if (static_cast<Frames>(keep) > kMaxIrFrames) {
        throw UsageError("the impulse response " + what + " is " + std::to_string(keep) + " frames long at " +
                         std::to_string(input.sampleRate) + " Hz; the limit is " +
                         std::to_string(kMaxIrFrames));
    }
    for (auto& h : ir) {
        h.resize(keep);
    }
    m_facts.irFrames = static_cast<Frames>(keep);

    Design d;
    d.matrix.inputs = channels;
    d.matrix.outputs = channels;
    if (m_facts.irChannels == 1) {
        for (int c = 0; c < channels; ++c) {
            d.matrix.paths.push_back({c, c, 0});
        }
    } else if (m_facts.irChannels == 2) {
        d.matrix.paths = {{0, 0, 0}, {1, 1, 1}};
    } else {
        d.matrix.paths = {{0, 0, 0}, {0, 1, 1}, {1, 0, 2}, {1, 1, 3}}; // LL LR RL RR
    }
    double gain = 1.0;
    if (m_spec.normalization == IrNormalization::Energy) {
        // Mean over outputs of the energy that reaches each output.
        double energy = 0.0;
        for (const FilterPath& p : d.matrix.paths) {
            for (float v : ir[static_cast<std::size_t>(p.filter)]) {
                energy += static_cast<double>(v) * v;
            }
        }
        energy /= channels;
        gain = 1.0 / std::sqrt(energy);
    }
    m_facts.normalizationDb = 20.0 * std::log10(gain);
    const bool wetOn = m_spec.wetDb > kReverbMutedDb;
    gain *= wetOn ? std::pow(10.0, m_spec.wetDb / 20.0) : 0.0;
    m_facts.predelayFrames = static_cast<Frames>(std::llround(m_spec.predelayMs * 1e-3 * input.sampleRate));
    for (auto& h : ir) {
        for (auto& v : h) {
            v = static_cast<float>(v * gain);
        }
        h.insert(h.begin(), static_cast<std::size_t>(m_facts.predelayFrames), 0.0f);
    }
    // 4. Tail: after the input ends, |y[end + t]| ≤ Σ_{k>t} |h[k]| for |x| ≤ 1.
    const double floor = std::pow(10.0, kReverbTailFloorDbfs / 20.0);
    Frames tail = 0;
    if (wetOn) {
        for (int o = 0; o < channels; ++o) {
            std::vector<double> suffix(keep + static_cast<std::size_t>(m_facts.predelayFrames) + 1, 0.0);
            for (const FilterPath& p : d.matrix.paths) {
                if (p.output != o) {
                    continue;
                }
                const auto& h = ir[static_cast<std::size_t>(p.filter)];
                for (std::size_t k = 0; k < h.size(); ++k) {
                    suffix[k] += std::abs(static_cast<double>(h[k]));
                }
            }
            double sum = 0.0;
            for (std::size_t k = suffix.size(); k-- > 0;) {
                sum += suffix[k];
                if (sum > floor) {
                    tail = std::max(tail, static_cast<Frames>(k));
                    break;
                }
            }
        }
    }
    m_facts.tailFrames = tail;
    d.tail = tail;
    if (m_spec.dryDb > kReverbMutedDb) {
        d.dryGain = dbToGain(m_spec.dryDb);
    }
    d.matrix.filters = std::move(ir);
    if (!wetOn) {
        // Dry only: a gain (exact pass-through at 0 dB).
        d.matrix.filters = {{0.0f}};
        d.matrix.paths.clear();
        for (int c = 0; c < channels; ++c) {
            d.matrix.paths.push_back({c, c, 0});
        }
        d.bypass = m_spec.dryDb == 0.0;
    }
    return d;
}

nlohmann::json ReverbStage::report() const {
    nlohmann::json j;
    j["ir"] = m_facts.source;
    j["ir_channels"] = m_facts.irChannels;
    j["ir_sample_rate"] = m_facts.irRate;
    j["resampled"] = m_facts.irRate != m_rate;
    j["ir_frames"] = m_facts.irFrames;
    j["ir_s"] = m_rate > 0 ? static_cast<double>(m_facts.irFrames) / m_rate : 0.0;
    j["normalization_db"] = m_facts.normalizationDb;
    j["predelay_frames"] = m_facts.predelayFrames;
    j["tail_frames"] = m_facts.tailFrames;
    j["tail_s"] = m_rate > 0 ? static_cast<double>(m_facts.tailFrames) / m_rate : 0.0;
    return j;
}

} // namespace lathe
