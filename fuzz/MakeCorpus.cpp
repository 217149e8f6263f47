// Lathe fuzzing: writes the seed corpora, all generated here (no third-party files).
//   lathe_make_corpus DIR   → DIR/decode, DIR/preset, DIR/ir
// decode: valid files of every container and encoding libsndfile writes, at several rates and
// channel counts (0, 1 and 480 frames), and a 16-bit stereo WAV with broken headers — channels 0
// and 65535, rate 0 and 2^32−1, inconsistent block align, odd bit depths, data and RIFF sizes
// past the end, a duplicate fmt chunk, truncations. preset: every bundled preset and variants.
// ir: short impulse responses of several shapes and rates.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/Preset.h>
#include <lathe/Speakers.h>

#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

bool writeAudio(const fs::path& p, int format, int channels, int rate, int frames, bool withNan = false) {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = format;
    SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
    if (f == nullptr) {
        return false; // a combination the format does not take: no seed
    }
    std::vector<float> x(static_cast<std::size_t>(frames * channels));
    for (int n = 0; n < frames; ++n) {
        for (int c = 0; c < channels; ++c) {
            x[static_cast<std::size_t>(n * channels + c)] =
                static_cast<float>(0.5 * std::sin(0.05 * n * (c + 1)) * std::exp(-0.002 * n));
        }
    }
    if (withNan && !x.empty()) {
        x[x.size() / 2] = std::numeric_limits<float>::quiet_NaN();
    }
    sf_writef_float(f, x.data(), frames);
    sf_close(f);
    return true;
}

std::vector<std::uint8_t> readAll(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeAll(const fs::path& p, const std::vector<std::uint8_t>& b) {
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void put16(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
    b[at] = static_cast<std::uint8_t>(v);
    b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}

void put32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
    for (int k = 0; k < 4; ++k) {
        b[at + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(v >> (8 * k));
    }
}

std::size_t chunk(const std::vector<std::uint8_t>& b, const char* id) {
    for (std::size_t i = 12; i + 8 <= b.size(); ++i) {
        if (std::memcmp(b.data() + i, id, 4) == 0) {
            return i;
        }
    }
    return std::string::npos;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const fs::path dir(argv[1]);
    for (const char* sub : {"decode", "preset", "ir", "speaker"}) {
        fs::create_directories(dir / sub);
    }
    int count = 0;
    // Valid files: containers × encodings × channels × rates × lengths.
    struct Kind {
        const char* name;
        int format;
    };
    const Kind kinds[] = {
        {"wav16", SF_FORMAT_WAV | SF_FORMAT_PCM_16},     {"wav24", SF_FORMAT_WAV | SF_FORMAT_PCM_24},
        {"wavf", SF_FORMAT_WAV | SF_FORMAT_FLOAT},       {"wavu8", SF_FORMAT_WAV | SF_FORMAT_PCM_U8},
        {"wavex24", SF_FORMAT_WAVEX | SF_FORMAT_PCM_24}, {"rf64", SF_FORMAT_RF64 | SF_FORMAT_PCM_24},
        {"w64", SF_FORMAT_W64 | SF_FORMAT_PCM_16},       {"aiff16", SF_FORMAT_AIFF | SF_FORMAT_PCM_16},
        {"aifff", SF_FORMAT_AIFF | SF_FORMAT_FLOAT},     {"caf", SF_FORMAT_CAF | SF_FORMAT_FLOAT},
        {"flac16", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},   {"flac24", SF_FORMAT_FLAC | SF_FORMAT_PCM_24},
        {"ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},       {"au", SF_FORMAT_AU | SF_FORMAT_PCM_16},
    };
    for (const Kind& k : kinds) {
        for (int channels : {1, 2, 6}) {
            for (int rate : {8000, 44100, 96000}) {
                for (int frames : {0, 1, 480}) {
                    if (rate != 44100 && frames != 480) {
                        continue; // the edge lengths at one rate are enough
                    }
                    const std::string name = std::string(k.name) + "-" + std::to_string(channels) + "ch-" +
                                             std::to_string(rate) + "-" + std::to_string(frames);
                    count += writeAudio(dir / "decode" / name, k.format, channels, rate, frames) ? 1 : 0;
                }
            }
        }
    }
    count +=
        writeAudio(dir / "decode" / "wavf-nan", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 48000, 480, true) ? 1 : 0;
    // Broken headers, from a 16-bit stereo WAV.
    const fs::path base = dir / "decode" / "base.wav";
    writeAudio(base, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 48000, 480);
    const std::vector<std::uint8_t> good = readAll(base);
    const std::size_t fmt = chunk(good, "fmt ");
    const std::size_t data = chunk(good, "data");
    if (fmt != std::string::npos && data != std::string::npos) {
        auto variant = [&](const std::string& name, auto&& change) {
            std::vector<std::uint8_t> b = good;
            change(b);
            writeAll(dir / "decode" / ("hdr-" + name), b);
            ++count;
        };
        variant("channels-0", [&](auto& b) { put16(b, fmt + 10, 0); });
        variant("channels-65535", [&](auto& b) { put16(b, fmt + 10, 65535); });
        variant("rate-0", [&](auto& b) { put32(b, fmt + 12, 0); });
        variant("rate-max", [&](auto& b) { put32(b, fmt + 12, 0xffffffffu); });
        variant("byterate-0", [&](auto& b) { put32(b, fmt + 16, 0); });
        variant("blockalign-1", [&](auto& b) { put16(b, fmt + 20, 1); });
        variant("blockalign-max", [&](auto& b) { put16(b, fmt + 20, 65535); });
        variant("bits-0", [&](auto& b) { put16(b, fmt + 22, 0); });
        variant("bits-13", [&](auto& b) { put16(b, fmt + 22, 13); });
        variant("bits-64", [&](auto& b) { put16(b, fmt + 22, 64); });
        variant("format-tag-unknown", [&](auto& b) { put16(b, fmt + 8, 0x1234); });
        variant("fmt-size-huge", [&](auto& b) { put32(b, fmt + 4, 0x7fffffffu); });
        variant("data-past-eof", [&](auto& b) { put32(b, data + 4, 0x7fffffffu); });
        variant("data-odd", [&](auto& b) { put32(b, data + 4, 3); });
        variant("riff-small", [&](auto& b) { put32(b, 4, 8); });
        variant("riff-huge", [&](auto& b) { put32(b, 4, 0xffffffffu); });
        variant("duplicate-fmt", [&](auto& b) {
            std::vector<std::uint8_t> second(b.begin() + static_cast<std::ptrdiff_t>(fmt),
                                             b.begin() + static_cast<std::ptrdiff_t>(fmt + 24));
            put16(second, 10, 6);
            b.insert(b.begin() + static_cast<std::ptrdiff_t>(data), second.begin(), second.end());
        });
        for (std::size_t cut : {std::size_t{4}, std::size_t{12}, fmt + 10, data, data + 8, data + 9}) {
            variant("truncated-" + std::to_string(cut), [&](auto& b) { b.resize(std::min(cut, b.size())); });
        }
    }
    fs::remove(base);
    // Speaker models: every built-in one, and measured responses as CSV.
    for (const lathe::SpeakerModel& m : lathe::builtinSpeakers()) {
        std::ofstream(dir / "speaker" / (m.id + ".json")) << lathe::toJson(m).dump(1);
    }
    std::ofstream(dir / "speaker" / "room.csv") << "Hz,dB\n# sofa\n20,-12\n100,0\n1000,0\n10000,-3\n";
    std::ofstream(dir / "speaker" / "semicolons.csv") << "20;-6\n200;0\n20000;-10\n";
    // Presets: every bundled one, and small variants.
    for (const lathe::PresetInfo& p : lathe::bundledPresets()) {
        std::ofstream(dir / "preset" / (p.name + ".json")) << lathe::loadPresetDocument(p.name).json.dump(1);
        ++count;
    }
    std::ofstream(dir / "preset" / "empty.json") << R"({"schema":"lathe.preset/1","name":"e","stages":[]})";
    std::ofstream(dir / "preset" / "limiter.json")
        << R"({"schema":"lathe.preset/1","name":"l","target_lufs":-14,"stages":[{"type":"limiter","ceiling_dbtp":-1,"lookahead_ms":5,"release_ms":50}]})";
    std::ofstream(dir / "preset" / "eq-taps.json")
        << R"({"schema":"lathe.preset/1","name":"q","stages":[{"type":"eq","taps":1025,"bands":[{"type":"bell","hz":1000,"gain_db":3,"q":1}]}]})";
    std::ofstream(dir / "preset" / "multiband-ms.json")
        << R"({"schema":"lathe.preset/1","name":"m","stages":[{"type":"multiband","splits_hz":[200,2000],"mid_side":true,"bands":[{"ratio":2},{"ratio":3,"bypass":true},{"type":"expander","ratio":2}]}]})";
    count += 4;
    // Impulse responses.
    for (int channels : {1, 2, 4}) {
        for (int rate : {8000, 48000, 192000}) {
            for (int frames : {1, 64, 4800}) {
                const std::string name = "ir-" + std::to_string(channels) + "ch-" + std::to_string(rate) +
                                         "-" + std::to_string(frames) + ".wav";
                count +=
                    writeAudio(dir / "ir" / name, SF_FORMAT_WAV | SF_FORMAT_FLOAT, channels, rate, frames)
                        ? 1
                        : 0;
            }
        }
    }
    std::printf("%d seed files in %s\n", count, dir.c_str());
    return 0;
}
