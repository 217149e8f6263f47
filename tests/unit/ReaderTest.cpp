// SPDX-License-Identifier: GPL-3.0-or-later
// AudioReader: every format libsndfile decodes, and the bad-input catalogue of
// ../shared/reference/bad-input.md. Files are written with raw libsndfile or byte by byte.
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/AudioReader.h>
#include <lathe/Error.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <functional>

namespace lathe {
namespace {

using test::Planar;
using test::TempDir;

Planar stereoSine(Frames frames, SampleRate fs) {
    return {test::sine(997.0, 0.5, fs, frames), test::sine(1499.0, 0.25, fs, frames, 0.3)};
}

struct FormatCase {
    const char* name;
    const char* extension;
    int format;
    Container container;
    Encoding encoding;
    bool lossless;
    SampleRate rate;
};

class ReaderFormats : public ::testing::TestWithParam<FormatCase> {};

// Reads the file with AudioReader in odd-sized chunks and compares with raw libsndfile.
TEST_P(ReaderFormats, ReadsAsFloatInChunks) {
    const FormatCase& fc = GetParam();
    TempDir dir;
    const auto path = dir / (std::string("in.") + fc.extension);
    const Frames frames = 48000 + 17;
    test::writeRawFloat(path, stereoSine(frames, fc.rate), fc.rate, fc.format);
    const Planar expected = test::readRawFloat(path);

    AudioReader reader(path);
    const AudioFileInfo& info = reader.info();
    EXPECT_EQ(info.container, fc.container);
    EXPECT_EQ(info.encoding, fc.encoding);
    EXPECT_EQ(info.sampleRate, fc.rate);
    EXPECT_EQ(info.channels, 2);
    EXPECT_EQ(info.layout.name(), "stereo");
    EXPECT_FALSE(info.truncated);
    if (fc.lossless) {
        EXPECT_EQ(info.frames, frames);
    }
    AudioBuffer block;
    Frames pos = 0;
    for (;;) {
        const Frames n = reader.read(block, 4093);
        if (n == 0) {
            break;
        }
        for (int c = 0; c < 2; ++c) {
            for (Frames i = 0; i < n; ++i) {
                ASSERT_EQ(block.channel(c)[i],
                          expected[static_cast<std::size_t>(c)][static_cast<std::size_t>(pos + i)])
                    << fc.name << " channel " << c << " frame " << pos + i;
            }
        }
        pos += n;
    }
    EXPECT_EQ(pos, static_cast<Frames>(expected[0].size()));
    if (!fc.lossless) {
        // Lossy decoders: the tone is still there at its level (±0.5 dB) after the codec delay.
        const test::SineFit fit =
            test::fitSine(expected[0].data() + fc.rate / 4, fc.rate / 2, 997.0, fc.rate, 0);
        EXPECT_NEAR(20 * std::log10(fit.amplitude / 0.5), 0.0, 0.5) << fc.name;
    }
}

INSTANTIATE_TEST_SUITE_P(AllFormats, ReaderFormats,
                         ::testing::Values(FormatCase{"wav16", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16,
                                                      Container::Wav, Encoding::Pcm16, true, 44100},
                                           FormatCase{"wav24", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24,
                                                      Container::Wav, Encoding::Pcm24, true, 48000},
                                           FormatCase{"wav32", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32,
                                                      Container::Wav, Encoding::Pcm32, true, 96000},
                                           FormatCase{"wavf", "wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT,
                                                      Container::Wav, Encoding::Float32, true, 192000},
                                           FormatCase{"wavd", "wav", SF_FORMAT_WAV | SF_FORMAT_DOUBLE,
                                                      Container::Wav, Encoding::Float64, true, 48000},
                                           FormatCase{"rf64", "rf64", SF_FORMAT_RF64 | SF_FORMAT_PCM_24,
                                                      Container::Rf64, Encoding::Pcm24, true, 48000},
                                           FormatCase{"w64", "w64", SF_FORMAT_W64 | SF_FORMAT_FLOAT,
                                                      Container::W64, Encoding::Float32, true, 88200},
                                           FormatCase{"aiff", "aif", SF_FORMAT_AIFF | SF_FORMAT_PCM_24,
                                                      Container::Aiff, Encoding::Pcm24, true, 48000},
                                           FormatCase{"caf", "caf", SF_FORMAT_CAF | SF_FORMAT_PCM_16,
                                                      Container::Caf, Encoding::Pcm16, true, 48000},
                                           FormatCase{"flac16", "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16,
                                                      Container::Flac, Encoding::Pcm16, true, 44100},
                                           FormatCase{"flac24", "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24,
                                                      Container::Flac, Encoding::Pcm24, true, 96000},
                                           FormatCase{"vorbis", "ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS,
                                                      Container::Ogg, Encoding::Vorbis, false, 44100},
                                           FormatCase{"opus", "opus", SF_FORMAT_OGG | SF_FORMAT_OPUS,
                                                      Container::Ogg, Encoding::Opus, false, 48000},
                                           FormatCase{"mp3", "mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III,
                                                      Container::Mp3, Encoding::Mp3, false, 44100}),
                         [](const auto& p) { return std::string(p.param.name); });

std::string messageOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no InputError)";
}

TEST(ReaderBadInput, MissingFile) {
    TempDir dir;
    const std::string m = messageOf([&] { AudioReader r(dir / "nope.wav"); });
    EXPECT_NE(m.find("nope.wav: no such file"), std::string::npos) << m;
}

TEST(ReaderBadInput, ZeroLengthFile) {
    TempDir dir;
    test::writeBytes(dir / "empty.wav", {});
    const std::string m = messageOf([&] { AudioReader r(dir / "empty.wav"); });
    EXPECT_NE(m.find("empty.wav: file is empty"), std::string::npos) << m;
}

TEST(ReaderBadInput, GarbageAndTextFilesListSupportedFormats) {
    TempDir dir;
    const std::string riffJunk = "RIFF\x10\x00\x00\x00WAVEjunkjunkjunk";
    test::writeBytes(dir / "junk.wav", {riffJunk.begin(), riffJunk.end()});
    const std::string text = "this is not audio, it is a shopping list\n";
    test::writeBytes(dir / "list.wav", {text.begin(), text.end()});
    for (const char* name : {"junk.wav", "list.wav"}) {
        const std::string m = messageOf([&] { AudioReader r(dir / name); });
        EXPECT_NE(m.find(name), std::string::npos) << m;
        EXPECT_NE(m.find("not a readable audio file"), std::string::npos) << m;
        EXPECT_NE(m.find("supported formats: WAV"), std::string::npos) << m;
    }
}

TEST(ReaderBadInput, DirectoryIsNotAFile) {
    TempDir dir;
    const std::string m = messageOf([&] { AudioReader r(dir.path()); });
    EXPECT_NE(m.find("is a directory"), std::string::npos) << m;
}

TEST(ReaderBadInput, HeaderOnlyHasNoAudio) {
    TempDir dir;
    test::writeBytes(dir / "h.wav", test::wavHeader(2, 48000, 16, 0));
    AudioReader r(dir / "h.wav");
    EXPECT_EQ(r.info().frames, 0);
    ASSERT_FALSE(r.info().warnings.empty());
    EXPECT_EQ(r.info().warnings.front(), "no audio (0 frames)");
    AudioBuffer b;
    EXPECT_EQ(r.read(b, 1024), 0);
}

// A WAV whose data chunk says 19200 bytes (4800 frames) but holds 1000: libsndfile opens it
// silently with 250 frames. Lathe flags it, and strict mode refuses it.
TEST(ReaderBadInput, TruncatedWavIsFlaggedAndStrictRefuses) {
    TempDir dir;
    auto bytes = test::wavHeader(2, 48000, 16, 19200);
    bytes.resize(bytes.size() + 1000, 0x11);
    test::writeBytes(dir / "t.wav", bytes);
    AudioReader r(dir / "t.wav");
    EXPECT_TRUE(r.info().truncated);
    EXPECT_EQ(r.info().frames, 250);
    EXPECT_EQ(r.info().declaredFrames, 4800);
    ASSERT_FALSE(r.info().warnings.empty());
    EXPECT_EQ(r.info().warnings.front(), "truncated: 250 of 4800 frames present");

    AudioReader::Options strict;
    strict.strict = true;
    const std::string m = messageOf([&] { AudioReader s(dir / "t.wav", strict); });
    EXPECT_NE(m.find("t.wav: truncated: 250 of 4800 frames present"), std::string::npos) << m;
}

// Also cut mid-frame (1001 bytes: a quarter frame dangling).
TEST(ReaderBadInput, TruncatedMidFrame) {
    TempDir dir;
    auto bytes = test::wavHeader(2, 48000, 16, 19200);
    bytes.resize(bytes.size() + 1001, 0x11);
    test::writeBytes(dir / "t.wav", bytes);
    AudioReader r(dir / "t.wav");
    EXPECT_TRUE(r.info().truncated);
    EXPECT_EQ(r.info().frames, 250);
}

TEST(ReaderBadInput, StreamedWavWithoutLengthIsAcceptedWithAWarning) {
    TempDir dir;
    auto bytes = test::wavHeader(2, 48000, 16, 0xffffffffu);
    bytes.resize(bytes.size() + 4000, 0);
    test::writeBytes(dir / "s.wav", bytes);
    AudioReader::Options strict;
    strict.strict = true; // not an error even in strict mode: the header never claimed a length
    AudioReader r(dir / "s.wav", strict);
    EXPECT_FALSE(r.info().truncated);
    EXPECT_EQ(r.info().frames, 1000);
    ASSERT_FALSE(r.info().warnings.empty());
    EXPECT_NE(r.info().warnings.front().find("streamed"), std::string::npos);
}

TEST(ReaderBadInput, TruncatedFlacFailsWhileReading) {
    TempDir dir;
    const auto full = dir / "full.flac";
    test::writeRawFloat(full, stereoSine(480000, 48000), 48000, SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
    auto bytes = test::readBytes(full);
    bytes.resize(bytes.size() / 3);
    test::writeBytes(dir / "cut.flac", bytes);
    AudioReader r(dir / "cut.flac");
    EXPECT_EQ(r.info().frames, 480000); // the header still promises everything
    AudioBuffer b;
    const std::string m = messageOf([&] {
        while (r.read(b, 65536) > 0) {
        }
    });
    EXPECT_NE(m.find("cut.flac: decoding failed at frame"), std::string::npos) << m;
}

TEST(ReaderBadInput, ZeroChannels) {
    TempDir dir;
    auto bytes = test::wavHeader(0, 48000, 16, 400);
    bytes.resize(bytes.size() + 400, 0);
    test::writeBytes(dir / "z.wav", bytes);
    const std::string m = messageOf([&] { AudioReader r(dir / "z.wav"); });
    EXPECT_NE(m.find("z.wav:"), std::string::npos) << m;
    EXPECT_EQ(m.find("(no InputError)"), std::string::npos);
}

TEST(ReaderBadInput, MoreChannelsThanTheLimit) {
    TempDir dir;
    const int channels = kMaxChannels + 1;
    auto bytes = test::wavHeader(channels, 48000, 16, static_cast<std::uint32_t>(channels * 2 * 10));
    bytes.resize(bytes.size() + static_cast<std::size_t>(channels * 2 * 10), 0);
    test::writeBytes(dir / "many.wav", bytes);
    const std::string m = messageOf([&] { AudioReader r(dir / "many.wav"); });
    EXPECT_NE(m.find("has 65 channels; Lathe supports at most 64"), std::string::npos) << m;
}

TEST(ReaderBadInput, SampleRatesOutsideTheRange) {
    TempDir dir;
    for (std::uint32_t rate : {1u, 7999u, 384001u, 1000000u}) {
        auto bytes = test::wavHeader(1, rate, 16, 200);
        bytes.resize(bytes.size() + 200, 0);
        const auto p = dir / ("r" + std::to_string(rate) + ".wav");
        test::writeBytes(p, bytes);
        const std::string m = messageOf([&] { AudioReader r(p); });
        EXPECT_NE(m.find("sample rate " + std::to_string(rate) + " Hz is outside the supported range"),
                  std::string::npos)
            << m;
    }
    for (std::uint32_t rate : {8000u, 11025u, 22050u, 88200u, 176400u, 384000u}) {
        auto bytes = test::wavHeader(1, rate, 16, 200);
        bytes.resize(bytes.size() + 200, 0);
        const auto p = dir / ("ok" + std::to_string(rate) + ".wav");
        test::writeBytes(p, bytes);
        AudioReader r(p);
        EXPECT_EQ(r.info().sampleRate, static_cast<SampleRate>(rate));
    }
}

TEST(ReaderBadInput, NonFiniteSamplesPassThroughTheReader) {
    // The reader does not judge sample values; RenderJob and inspect do (tested there).
    TempDir dir;
    Planar audio{std::vector<float>(100, 0.1f)};
    audio[0][10] = NAN;
    audio[0][20] = INFINITY;
    test::writeRawFloat(dir / "nan.wav", audio, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    AudioReader r(dir / "nan.wav");
    AudioBuffer b;
    ASSERT_EQ(r.read(b, 100), 100);
    EXPECT_TRUE(std::isnan(b.channel(0)[10]));
    EXPECT_TRUE(std::isinf(b.channel(0)[20]));
}

void writeWithMap(const std::filesystem::path& p, const std::vector<int>& map) {
    SF_INFO info{};
    info.channels = static_cast<int>(map.size());
    info.samplerate = 48000;
    info.format = SF_FORMAT_WAVEX | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
    ASSERT_NE(f, nullptr);
    std::vector<int> m = map;
    ASSERT_EQ(sf_command(f, SFC_SET_CHANNEL_MAP_INFO, m.data(), static_cast<int>(m.size() * sizeof(int))),
              SF_TRUE);
    std::vector<short> silence(map.size() * 100, 0);
    sf_writef_short(f, silence.data(), 100);
    sf_close(f);
}

TEST(ReaderLayout, ChannelMaskGivesTheLayout) {
    TempDir dir;
    writeWithMap(dir / "51.wav", {SF_CHANNEL_MAP_LEFT, SF_CHANNEL_MAP_RIGHT, SF_CHANNEL_MAP_CENTER,
                                  SF_CHANNEL_MAP_LFE, SF_CHANNEL_MAP_REAR_LEFT, SF_CHANNEL_MAP_REAR_RIGHT});
    AudioReader r(dir / "51.wav");
    EXPECT_EQ(r.info().layout.name(), "5.1");
    EXPECT_EQ(r.info().layout.source, LayoutSource::File);
    EXPECT_EQ(r.info().layout.speakers[3], Speaker::LowFrequency);
}

TEST(ReaderLayout, LfeWhereverTheMaskPutsIt) {
    TempDir dir;
    // 2.1: the LFE is the third channel, not the fourth.
    writeWithMap(dir / "21.wav", {SF_CHANNEL_MAP_LEFT, SF_CHANNEL_MAP_RIGHT, SF_CHANNEL_MAP_LFE});
    AudioReader r(dir / "21.wav");
    ASSERT_EQ(r.info().layout.channels(), 3);
    EXPECT_EQ(r.info().layout.speakers[2], Speaker::LowFrequency);
    EXPECT_TRUE(r.info().layout.hasLfe());
    // 7.1 with side channels.
    writeWithMap(dir / "71.wav", {SF_CHANNEL_MAP_LEFT, SF_CHANNEL_MAP_RIGHT, SF_CHANNEL_MAP_CENTER,
                                  SF_CHANNEL_MAP_LFE, SF_CHANNEL_MAP_REAR_LEFT, SF_CHANNEL_MAP_REAR_RIGHT,
                                  SF_CHANNEL_MAP_SIDE_LEFT, SF_CHANNEL_MAP_SIDE_RIGHT});
    AudioReader r71(dir / "71.wav");
    EXPECT_EQ(r71.info().layout.name(), "7.1");
}

TEST(ReaderLayout, NoMaskMeansUnknownUntilTheUserSaysSo) {
    TempDir dir;
    Planar six(6, std::vector<float>(100, 0.0f));
    test::writeRawFloat(dir / "six.wav", six, 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    AudioReader r(dir / "six.wav");
    EXPECT_FALSE(r.info().layout.known());
    ASSERT_FALSE(r.info().warnings.empty());
    EXPECT_NE(r.info().warnings.back().find("--layout"), std::string::npos);

    AudioReader::Options o;
    o.layout = parseChannelLayout("5.1");
    AudioReader stated(dir / "six.wav", o);
    EXPECT_EQ(stated.info().layout.name(), "5.1");

    o.layout = parseChannelLayout("7.1");
    EXPECT_THROW(AudioReader wrong(dir / "six.wav", o), UsageError);
}

TEST(ReaderLayout, MonoByConvention) {
    TempDir dir;
    test::writeRawFloat(dir / "m.wav", {test::sine(1000, 0.1, 48000, 480)}, 48000,
                        SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    AudioReader r(dir / "m.wav");
    EXPECT_EQ(r.info().layout.name(), "mono");
    EXPECT_EQ(r.info().layout.source, LayoutSource::Convention);
}

TEST(Reader, SeekThenRead) {
    TempDir dir;
    test::writeRawFloat(dir / "s.wav", {test::sine(1000, 0.5, 48000, 10000)}, 48000,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const Planar raw = test::readRawFloat(dir / "s.wav");
    AudioReader r(dir / "s.wav");
    r.seek(9000);
    AudioBuffer b;
    ASSERT_EQ(r.read(b, 2000), 1000);
    EXPECT_EQ(b.channel(0)[0], raw[0][9000]);
    EXPECT_THROW(r.seek(10001), InputError);
}

} // namespace
} // namespace lathe
