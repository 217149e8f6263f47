// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/Backend.h>
#include <lathe/Error.h>

#include <algorithm>

namespace lathe {

BackendRegistry::BackendRegistry() {
    add(
        "cpu", 0,
        [] {
            BackendStatus s;
            s.name = "cpu";
            s.available = true;
            s.description = makeCpuBackend()->description();
            return s;
        },
        [] { return makeCpuBackend(); });
}

void BackendRegistry::add(std::string name, int preference, Probe probe, Factory factory) {
    m_entries.erase(
        std::remove_if(m_entries.begin(), m_entries.end(), [&](const Entry& e) { return e.name == name; }),
        m_entries.end());
    m_entries.push_back(Entry{std::move(name), preference, std::move(probe), std::move(factory), false, {}});
    std::stable_sort(m_entries.begin(), m_entries.end(),
                     [](const Entry& a, const Entry& b) { return a.preference > b.preference; });
}

const BackendStatus& BackendRegistry::statusOf(const Entry& e) const {
    if (!e.probed) {
        e.status = e.probe();
        e.status.name = e.name;
        e.probed = true;
    }
    return e.status;
}

std::vector<BackendStatus> BackendRegistry::availableBackends() const {
    std::vector<BackendStatus> out;
    for (const Entry& e : m_entries) {
        out.push_back(statusOf(e));
    }
    return out;
}

std::unique_ptr<Backend> BackendRegistry::makeBackend(std::string_view name) const {
    for (const Entry& e : m_entries) {
        if (e.name == name) {
            const BackendStatus& s = statusOf(e);
            if (!s.available) {
                throw BackendUnavailableError("backend '" + e.name + "' is not available: " + s.reason);
            }
            return e.factory();
        }
    }
    std::string known;
    for (const Entry& e : m_entries) {
        known += (known.empty() ? "" : ", ") + e.name;
    }
    throw BackendUnavailableError("unknown backend '" + std::string(name) + "' (compiled in: auto, " + known +
                                  ")");
}

namespace {

/// Every capability's short key (settings, environment) and its name in messages and listings.
struct CapabilityText {
    Capability capability;
    std::string_view key;
    std::string_view name;
};
constexpr CapabilityText kCapabilityTexts[] = {
    {Capability::Render, "render", "rendering"},
    {Capability::Loudness, "loudness", "loudness analysis"},
    {Capability::Convolution, "convolution", "convolution (EQ, reverb)"},
    {Capability::Dynamics, "dynamics", "multiband dynamics"},
    {Capability::LimiterPass, "limiter-pass", "limiter pass (the loudness trial's, without verification)"},
    {Capability::Spectrum, "spectrum", "spectrum and spectrogram"},
    {Capability::ResidentTrial, "resident-trial", "the loudness trial on audio held on the device"},
};

const CapabilityText& textOf(Capability c) {
    for (const CapabilityText& t : kCapabilityTexts) {
        if (t.capability == c) {
            return t;
        }
    }
    LATHE_EXPECTS(false, "a capability without its text");
    return kCapabilityTexts[0];
}

} // namespace

std::string_view capabilityName(Capability c) {
    return textOf(c).name;
}

std::string_view capabilityKey(Capability c) {
    return textOf(c).key;
}

std::vector<Capability> parseCapabilityKeys(std::string_view setting, std::string_view list,
                                            std::span<const Capability> allowed) {
    std::vector<Capability> named;
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view key = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (key.empty()) {
            continue;
        }
        const auto it = std::find_if(allowed.begin(), allowed.end(),
                                     [&](Capability c) { return capabilityKey(c) == key; });
        if (it == allowed.end()) {
            std::string keys;
            for (const Capability c : allowed) {
                keys += (keys.empty() ? "" : ", ") + std::string(capabilityKey(c));
            }
            throw UsageError(std::string(setting) + ": unknown or unsupported capability '" +
                             std::string(key) + "' (one or more of: " + keys + ", separated by commas)");
        }
        named.push_back(*it);
    }
    return named;
}

namespace {

[[noreturn]] void notImplemented(const Backend& b, Capability c) {
    throw BackendUnavailableError("backend '" + std::string(b.name()) + "' does not implement " +
                                  std::string(capabilityName(c)) + " yet");
}

} // namespace

void Backend::measureLoudnessChunk(const LoudnessParams&, const LoudnessChunk&, LoudnessRecords&) {
    notImplemented(*this, Capability::Loudness);
}

std::unique_ptr<ResidentAudio> Backend::makeResident(int, Frames) {
    return nullptr;
}

std::vector<ChunkRecords> Backend::trialLoudness(const ResidentAudio&, const LimiterTrialPass&,
                                                 const LoudnessParams&, Frames) {
    notImplemented(*this, Capability::ResidentTrial);
}

void Backend::multibandDynamics(const MultibandParams&, const MultibandCall&, std::vector<BandDetectorState>&,
                                AudioBuffer&, MultibandCallStats&) {
    notImplemented(*this, Capability::Dynamics);
}

void Backend::limiterPass(const LimiterPassParams&, const LimiterPassCall&, std::vector<double>&,
                          AudioBuffer&, std::vector<ReductionStats>&) {
    notImplemented(*this, Capability::LimiterPass);
}

void Backend::spectrumFrames(const SpectrumParams&, const SpectrumCall&, SpectrumCallResult&) {
    notImplemented(*this, Capability::Spectrum);
}

Backend::LoudnessFeed Backend::loudnessFeed(int, Frames, unsigned threads) const {
    // Ten seconds per chunk and a chunk per thread: enough chunks to keep every core busy, little
    // audio held (threads × 10 s).
    return LoudnessFeed{100, std::max(1u, threads)};
}

std::unique_ptr<Convolver> Backend::makeConvolver(const FilterMatrix&, const ConvolverOptions&) {
    notImplemented(*this, Capability::Convolution);
}

BackendRegistry::Selection BackendRegistry::select(std::string_view choice, Capability needed) const {
    Selection sel;
    if (choice != "auto") {
        sel.backend = makeBackend(choice);
        if (!sel.backend->supports(needed)) {
            throw BackendUnavailableError("backend '" + std::string(choice) + "' does not run " +
                                          std::string(capabilityName(needed)) +
                                          " (not implemented, or left to the CPU by a setting such as "
                                          "LATHE_CUDA_HOLD); use --backend auto or cpu");
        }
        sel.reason = std::string(choice) + " (requested)";
        return sel;
    }
    std::string skipped;
    for (const Entry& e : m_entries) {
        const BackendStatus& s = statusOf(e);
        if (s.available) {
            std::unique_ptr<Backend> backend;
            try {
                backend = e.factory();
            } catch (const GpuError& err) {
                // A device that probes fine but cannot be set up (out of memory, a failing context):
                // "auto" moves on to the next backend and says why.
                skipped += (skipped.empty() ? "" : "; ") + e.name + " failed to start (" + err.what() + ")";
                continue;
            }
            if (backend->supports(needed)) {
                sel.backend = std::move(backend);
                sel.reason =
                    "auto: " + (skipped.empty() ? std::string() : skipped + "; ") + "using " + e.name;
                return sel;
            }
            skipped += (skipped.empty() ? "" : "; ") + e.name + " does not implement " +
                       std::string(capabilityName(needed)) + " yet";
            continue;
        }
        skipped += (skipped.empty() ? "" : "; ") + e.name + " unavailable (" + s.reason + ")";
    }
    throw BackendUnavailableError("no backend available: " + skipped);
}

} // namespace lathe
