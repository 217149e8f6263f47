// SPDX-License-Identifier: GPL-3.0-or-later
// AudioWriter and convertFile: exact round trips, container choice, and atomicity under faults.
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/AudioReader.h>
#include <lathe/AudioWriter.h>
#include <lathe/Error.h>
#include <lathe/RenderJob.h>
#include <lathe/math/Random.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace lathe {
namespace {

using test::Planar;
using test::TempDir;

std::vector<std::vector<std::int32_t>> randomCodes(int channels, Frames frames, int bits,
                                                   std::uint64_t seed) {
    std::vector<std::vector<std::int32_t>> out(static_cast<std::size_t>(channels));
    const std::int64_t range = std::int64_t{1} << bits;
    for (int c = 0; c < channels; ++c) {
        for (Frames i = 0; i < frames; ++i) {
            const std::uint64_t h =
                math::hashCounter(seed, static_cast<std::uint32_t>(c), static_cast<std::uint64_t>(i));
            std::int64_t code = static_cast<std::int64_t>(h % static_cast<std::uint64_t>(range)) - range / 2;
            if (i < 4) { // the extremes must survive too
                code = i % 2 == 0 ? -range / 2 : range / 2 - 1;
            }
            out[static_cast<std::size_t>(c)].push_back(
                static_cast<std::int32_t>(static_cast<std::uint32_t>(code) << (32 - bits)));
        }
    }
    return out;
}

struct RoundTripCase {
    const char* name;
    const char* extension;
    int bits;
};

class IntegerRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

// Integer input converted to the same depth must come back bit for bit (no dither: the samples
// already sit on the output grid).
TEST_P(IntegerRoundTrip, BitExact) {
    const RoundTripCase& rc = GetParam();
    TempDir dir;
    const auto codes = randomCodes(2, 100003, rc.bits, 7);
    const int subtype = rc.bits == 16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24;
    test::writeRawInt(dir / "in.wav", codes, 48000, SF_FORMAT_WAV | subtype);
    auto backend = makeCpuBackend();
    const auto out = dir / (std::string("out.") + rc.extension);
    const RenderReport r = convertFile(dir / "in.wav", out, {}, *backend);
    EXPECT_FALSE(r.dithered) << r.ditherReason;
    EXPECT_EQ(r.clippedSamples, 0);
    EXPECT_EQ(test::readRawInt(out), codes) << rc.name;
}

INSTANTIATE_TEST_SUITE_P(
    Formats, IntegerRoundTrip,
    ::testing::Values(RoundTripCase{"wav16", "wav", 16}, RoundTripCase{"wav24", "wav", 24},
                      RoundTripCase{"flac16", "flac", 16}, RoundTripCase{"flac24", "flac", 24},
                      RoundTripCase{"aiff16", "aif", 16}, RoundTripCase{"aiff24", "aiff", 24},
                      RoundTripCase{"rf64_24", "rf64", 24}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(WriterRoundTrip, SixteenToTwentyFourIsExact) {
    TempDir dir;
    const auto codes = randomCodes(1, 5000, 16, 3);
    test::writeRawInt(dir / "in.wav", codes, 44100, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    auto backend = makeCpuBackend();
    ConvertSettings s;
    s.format = SampleFormat::Pcm24;
    const RenderReport r = convertFile(dir / "in.wav", dir / "out.wav", s, *backend);
    EXPECT_FALSE(r.dithered);
    EXPECT_EQ(test::readRawInt(dir / "out.wav"), codes);
}

TEST(WriterRoundTrip, FloatIsExactIncludingOvers) {
    TempDir dir;
    Planar audio{test::noise(70001, 2.0, 11), test::noise(70001, 0.001, 12)};
    audio[0][5] = 1e-40f; // a denormal survives a float copy too
    test::writeRawFloat(dir / "in.wav", audio, 96000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto backend = makeCpuBackend();
    const RenderReport r = convertFile(dir / "in.wav", dir / "out.wav", {}, *backend);
    EXPECT_EQ(r.format, SampleFormat::Float32);
    EXPECT_FALSE(r.dithered);
    const Planar back = test::readRawFloat(dir / "out.wav");
    ASSERT_EQ(back.size(), 2u);
    for (std::size_t c = 0; c < 2; ++c) {
        ASSERT_EQ(std::memcmp(back[c].data(), audio[c].data(), audio[c].size() * sizeof(float)), 0);
    }
}

// libsndfile adds a PEAK chunk with the time of writing to float files by default; two renders of
// the same audio would then differ in their bytes (found when a CPU rerun and a CPU run a second
// apart were compared on the GPU machine). A float render carries no such chunk.
TEST(WriterRoundTrip, FloatFilesCarryNoTimestamp) {
    TempDir dir;
    test::writeRawFloat(dir / "in.wav", Planar{test::noise(4801, 0.5, 3)}, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto backend = makeCpuBackend();
    convertFile(dir / "in.wav", dir / "out.wav", {}, *backend);
    const auto bytes = test::readBytes(dir / "out.wav");
    const std::string text(bytes.begin(), bytes.end());
    EXPECT_EQ(text.find("PEAK"), std::string::npos);
    EXPECT_NE(text.find("data"), std::string::npos);
}

TEST(WriterRoundTrip, SixteenBitExportClipsInsteadOfWrapping) {
    // libsndfile without clipping turns 1.5 into −16386. Ours must clip and say so.
    TempDir dir;
    test::writeRawFloat(dir / "in.wav", {{1.5f, -1.5f, 0.5f, 1.0f}}, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto backend = makeCpuBackend();
    ConvertSettings s;
    s.format = SampleFormat::Pcm16;
    s.dither = DitherMode::Off;
    const RenderReport r = convertFile(dir / "in.wav", dir / "out.wav", s, *backend);
    const auto codes = test::readRawInt(dir / "out.wav");
    EXPECT_EQ(codes[0][0] >> 16, 32767);
    EXPECT_EQ(codes[0][1] >> 16, -32768);
    EXPECT_EQ(codes[0][2] >> 16, 16384);
    EXPECT_EQ(codes[0][3] >> 16, 32767);
    EXPECT_EQ(r.clippedSamples, 3);
    ASSERT_FALSE(r.warnings.empty());
    EXPECT_NE(r.warnings.back().find("3 samples clipped"), std::string::npos);
}

TEST(WavHeaderChoice, RiffUntilFourGibibytesThenRf64) {
    EXPECT_EQ(chooseWavHeader(-1, 2, 3), WavHeader::Rf64); // unknown length: be safe
    EXPECT_EQ(chooseWavHeader(0, 2, 3), WavHeader::Riff);
    // 3 hours of 48 kHz stereo 24-bit = 3.1 GB: fits.
    EXPECT_EQ(chooseWavHeader(Frames{3} * 3600 * 48000, 2, 3), WavHeader::Riff);
    // 3 hours of 96 kHz stereo float = 8.3 GB: does not.
    EXPECT_EQ(chooseWavHeader(Frames{3} * 3600 * 96000, 2, 4), WavHeader::Rf64);
    const Frames limitFrames = static_cast<Frames>(kRiffDataLimitBytes / 8); // stereo float
    EXPECT_EQ(chooseWavHeader(limitFrames, 2, 4), WavHeader::Rf64);          // inside the 1 % margin
    EXPECT_EQ(chooseWavHeader(limitFrames * 98 / 100, 2, 4), WavHeader::Riff);
    EXPECT_EQ(chooseWavHeader(limitFrames + 1, 2, 4), WavHeader::Rf64);
}

std::string fourCc(const std::filesystem::path& p) {
    const auto bytes = test::readBytes(p);
    return bytes.size() >= 4 ? std::string(bytes.begin(), bytes.begin() + 4) : std::string();
}

TEST(WavHeaderChoice, UnknownLengthSmallFileIsDowngradedToRiff) {
    TempDir dir;
    OutputSpec spec;
    spec.format = SampleFormat::Float32;
    spec.channels = 1;
    spec.expectedFrames = -1;
    AudioWriter w(dir / "u.wav", spec);
    EXPECT_EQ(w.effectiveContainer(), Container::Rf64);
    std::vector<float> x(1000, 0.25f);
    w.writeFloat(x.data(), 1000);
    w.commit();
    EXPECT_EQ(fourCc(dir / "u.wav"), "RIFF");
    AudioReader r(dir / "u.wav");
    EXPECT_EQ(r.info().frames, 1000);
}

TEST(WavHeaderChoice, ForcedRf64StaysRf64) {
    TempDir dir;
    test::writeRawFloat(dir / "in.wav", {test::sine(100, 0.5, 48000, 4800)}, 48000,
                        SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    auto backend = makeCpuBackend();
    ConvertSettings s;
    s.container = Container::Rf64;
    convertFile(dir / "in.wav", dir / "out.wav", s, *backend);
    EXPECT_EQ(fourCc(dir / "out.wav"), "RF64");
    EXPECT_EQ(test::rawFormatOf(dir / "out.wav") & SF_FORMAT_TYPEMASK, SF_FORMAT_RF64);
}

// An RF64 file that claims 5 GiB of data, stored sparsely (a few KiB on disk). The reader must
// see every frame (64-bit sizes), seek to the end and read the last samples.
TEST(WavHeaderChoice, SparseRf64LargerThanFourGibibytesReads) {
    TempDir dir;
    const auto path = dir / "big.rf64";
    const int channels = 2;
    const int bytesPerSample = 2;
    const std::uint64_t dataBytes = 5ull << 30;
    std::vector<std::uint8_t> h;
    auto put = [&](const char* tag) {
        for (int i = 0; i < 4; ++i) {
            h.push_back(static_cast<std::uint8_t>(tag[i]));
        }
    };
    auto le = [&](std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) {
            h.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        }
    };
    const std::uint64_t headerBytes = 12 + 36 + 24 + 8;
    put("RF64");
    le(0xffffffffu, 4);
    put("WAVE");
    put("ds64");
    le(28, 4);
    le(headerBytes + dataBytes - 8, 8);             // RIFF size
    le(dataBytes, 8);                               // data size
    le(dataBytes / (channels * bytesPerSample), 8); // sample count
    le(0, 4);                                       // table length
    put("fmt ");
    le(16, 4);
    le(1, 2);
    le(channels, 2);
    le(48000, 4);
    le(48000 * channels * bytesPerSample, 4);
    le(channels * bytesPerSample, 2);
    le(16, 2);
    put("data");
    le(0xffffffffu, 4);
    ASSERT_EQ(h.size(), headerBytes);
    test::writeBytes(path, h);
    ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(headerBytes + dataBytes)), 0);
    // The very last frame holds (1234, −1234); everything else is a hole (zeros).
    const int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const std::int16_t last[2] = {1234, -1234};
    ASSERT_EQ(::pwrite(fd, last, sizeof last, static_cast<off_t>(headerBytes + dataBytes - sizeof last)),
              static_cast<ssize_t>(sizeof last));
    ::close(fd);
    struct stat st {};
    ::stat(path.c_str(), &st);
    ASSERT_LT(st.st_blocks * 512, 1 << 20) << "the test file should be sparse";

    AudioReader r(path);
    const Frames frames = static_cast<Frames>(dataBytes / (channels * bytesPerSample));
    EXPECT_EQ(r.info().container, Container::Rf64);
    EXPECT_EQ(r.info().frames, frames);
    EXPECT_GT(frames * channels, Frames{1} << 31); // past 32-bit sample indexing
    r.seek(frames - 10);
    AudioBuffer b;
    ASSERT_EQ(r.read(b, 100), 10);
    EXPECT_EQ(b.channel(0)[9], 1234.0f / 32768.0f);
    EXPECT_EQ(b.channel(1)[9], -1234.0f / 32768.0f);
    EXPECT_EQ(b.channel(0)[0], 0.0f);
}

TEST(WriterGuards, RiffLimitIsNeverPassedSilently) {
    TempDir dir;
    OutputSpec spec;
    spec.format = SampleFormat::Pcm16;
    spec.channels = 1;
    spec.expectedFrames = 100; // an estimate that turns out wrong
    WriterFaults f;
    f.riffLimitBytes = 1000;
    AudioWriter w(dir / "w.wav", spec, f);
    std::vector<std::int32_t> x(400, 0);
    w.writeInt(x.data(), 400); // 800 bytes: fine
    try {
        w.writeInt(x.data(), 400);
        FAIL() << "wrote past the RIFF limit";
    } catch (const OutputError& e) {
        EXPECT_NE(std::string(e.what()).find("exceeds 4 GiB"), std::string::npos) << e.what();
    }
    w.discard();
    EXPECT_TRUE(dir.entries().empty());
}

TEST(WriterGuards, FlacRefusesFloat) {
    TempDir dir;
    OutputSpec spec;
    spec.container = Container::Flac;
    spec.format = SampleFormat::Float32;
    EXPECT_THROW(AudioWriter(dir / "x.flac", spec), UsageError);
    EXPECT_TRUE(dir.entries().empty());
}

// ---- Atomicity: a failure at any point leaves no file, and an existing file untouched. ----

class Atomicity : public ::testing::Test {
protected:
    void SetUp() override {
        test::writeRawFloat(m_dir / "in.wav", {test::noise(200000, 0.5, 1), test::noise(200000, 0.5, 2)},
                            48000, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
        const std::string old = "previous master, must survive";
        m_previous = {old.begin(), old.end()};
        test::writeBytes(m_dir / "out.wav", m_previous);
    }

    void expectOnlyInputAndPreviousOutput() {
        auto names = m_dir.entries();
        std::sort(names.begin(), names.end());
        EXPECT_EQ(names, (std::vector<std::string>{"in.wav", "out.wav"}));
        EXPECT_EQ(test::readBytes(m_dir / "out.wav"), m_previous);
    }

    std::string convertExpectingOutputError(const WriterFaults& faults) {
        auto backend = makeCpuBackend();
        ConvertSettings s;
        s.faults = faults;
        try {
            convertFile(m_dir / "in.wav", m_dir / "out.wav", s, *backend);
        } catch (const OutputError& e) {
            return e.what();
        }
        return "(no OutputError)";
    }

    TempDir m_dir;
    std::vector<std::uint8_t> m_previous;
};

TEST_F(Atomicity, DiskFullMidWrite) {
    WriterFaults f;
    f.failAfterBytes = 300000; // about a quarter of the output
    const std::string m = convertExpectingOutputError(f);
    EXPECT_NE(m.find("out.wav: writing audio failed: disk full"), std::string::npos) << m;
    expectOnlyInputAndPreviousOutput();
}

TEST_F(Atomicity, DiskFullWhileWritingTheHeader) {
    WriterFaults f;
    f.failAfterBytes = 0;
    const std::string m = convertExpectingOutputError(f);
    EXPECT_NE(m.find("disk full"), std::string::npos) << m;
    expectOnlyInputAndPreviousOutput();
}

TEST_F(Atomicity, FsyncFailure) {
    WriterFaults f;
    f.failFsync = true;
    const std::string m = convertExpectingOutputError(f);
    EXPECT_NE(m.find("fsync"), std::string::npos) << m;
    expectOnlyInputAndPreviousOutput();
}

TEST_F(Atomicity, RenameFailure) {
    WriterFaults f;
    f.failRename = true;
    const std::string m = convertExpectingOutputError(f);
    EXPECT_NE(m.find("moving the finished file into place failed"), std::string::npos) << m;
    expectOnlyInputAndPreviousOutput();
}

TEST_F(Atomicity, SuccessReplacesTheFileWhole) {
    auto backend = makeCpuBackend();
    convertFile(m_dir / "in.wav", m_dir / "out.wav", {}, *backend);
    auto names = m_dir.entries();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"in.wav", "out.wav"}));
    EXPECT_EQ(test::readRawInt(m_dir / "out.wav"), test::readRawInt(m_dir / "in.wav"));
}

/// A source that records whether anything was read (to prove a failure came before processing).
class CountingSource final : public AudioSource {
public:
    explicit CountingSource(test::MemorySource& inner) : m_inner(inner) {}
    std::string sourceName() const override { return "counting"; }
    SampleRate sampleRate() const override { return m_inner.sampleRate(); }
    int channelCount() const override { return m_inner.channelCount(); }
    ChannelLayout channelLayout() const override { return m_inner.channelLayout(); }
    Frames totalFrames() const override { return m_inner.totalFrames(); }
    int integerBits() const override { return 0; }
    Frames read(AudioBuffer& dst, Frames maxFrames) override {
        ++reads;
        return m_inner.read(dst, maxFrames);
    }
    int reads = 0;

private:
    test::MemorySource& m_inner;
};

std::string renderExpectingOutputError(const std::filesystem::path& out, int* reads) {
    test::MemorySource mem({test::sine(440, 0.5, 48000, 48000)}, 48000);
    CountingSource src(mem);
    auto backend = makeCpuBackend();
    try {
        render(src, {}, out, RenderOptions{}, *backend);
    } catch (const OutputError& e) {
        *reads = src.reads;
        return e.what();
    }
    *reads = src.reads;
    return "(no OutputError)";
}

TEST(OutputChecks, MissingDirectoryFailsBeforeProcessing) {
    TempDir dir;
    int reads = -1;
    const std::string m = renderExpectingOutputError(dir / "no" / "such" / "dir" / "out.wav", &reads);
    EXPECT_NE(m.find("the output directory does not exist"), std::string::npos) << m;
    EXPECT_EQ(reads, 0);
}

TEST(OutputChecks, ReadOnlyLocationFailsBeforeProcessing) {
    int reads = -1;
    // /proc refuses new files even for root (a chmod'ed directory would not stop root).
    const std::string m = renderExpectingOutputError("/proc/lathe-test-out.wav", &reads);
    EXPECT_NE(m.find("/proc/lathe-test-out.wav: "), std::string::npos) << m;
    EXPECT_EQ(reads, 0);
    if (::geteuid() != 0) {
        TempDir dir;
        std::filesystem::create_directory(dir / "ro");
        ::chmod((dir / "ro").c_str(), 0555);
        const std::string m2 = renderExpectingOutputError(dir / "ro" / "out.wav", &reads);
        EXPECT_NE(m2.find("not writable"), std::string::npos) << m2;
        ::chmod((dir / "ro").c_str(), 0755);
    }
}

TEST(OutputChecks, OutputThatIsADirectory) {
    TempDir dir;
    std::filesystem::create_directory(dir / "x.wav");
    int reads = -1;
    const std::string m = renderExpectingOutputError(dir / "x.wav", &reads);
    EXPECT_NE(m.find("is a directory"), std::string::npos) << m;
    EXPECT_EQ(reads, 0);
}

TEST(OutputChecks, OutputEqualToInputIsRefusedInEveryDisguise) {
    TempDir dir;
    test::writeRawFloat(dir / "in.wav", {test::sine(440, 0.5, 48000, 4800)}, 48000,
                        SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    const auto original = test::readBytes(dir / "in.wav");
    std::filesystem::create_directory(dir / "sub");
    std::filesystem::create_symlink(dir / "in.wav", dir / "link.wav");
    std::filesystem::create_hard_link(dir / "in.wav", dir / "hard.wav");
    auto backend = makeCpuBackend();
    for (const auto& out :
         {dir / "in.wav", dir / "sub" / ".." / "in.wav", dir / "link.wav", dir / "hard.wav"}) {
        try {
            convertFile(dir / "in.wav", out, {}, *backend);
            ADD_FAILURE() << "wrote over the input via " << out;
        } catch (const OutputError& e) {
            EXPECT_NE(std::string(e.what()).find("refusing to overwrite the input"), std::string::npos)
                << e.what();
        }
        EXPECT_EQ(test::readBytes(dir / "in.wav"), original) << out;
    }
}

TEST(OutputChecks, NewFilesGetNormalPermissionsAndReplacementsKeepTheirs) {
    TempDir dir;
    test::writeRawFloat(dir / "in.wav", {test::sine(440, 0.5, 48000, 4800)}, 48000,
                        SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    auto backend = makeCpuBackend();
    const mode_t old = ::umask(022);
    convertFile(dir / "in.wav", dir / "new.wav", {}, *backend);
    struct stat st {};
    ::stat((dir / "new.wav").c_str(), &st);
    EXPECT_EQ(st.st_mode & 0777, 0644u); // not mkstemp's 0600
    ::chmod((dir / "new.wav").c_str(), 0640);
    convertFile(dir / "in.wav", dir / "new.wav", {}, *backend);
    ::stat((dir / "new.wav").c_str(), &st);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    ::umask(old);
}

TEST(WriterLayout, MultichannelLayoutIsWrittenAsAMask) {
    TempDir dir;
    // A 6-channel WAV without a mask, stated as 5.1 by the user: the output carries the mask.
    test::writeRawFloat(dir / "six.wav", Planar(6, test::sine(100, 0.1, 48000, 4800)), 48000,
                        SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    auto backend = makeCpuBackend();
    ConvertSettings s;
    s.reader.layout = parseChannelLayout("5.1");
    convertFile(dir / "six.wav", dir / "51.wav", s, *backend);
    AudioReader r(dir / "51.wav");
    EXPECT_EQ(r.info().layout.name(), "5.1");
    EXPECT_EQ(r.info().layout.source, LayoutSource::File);
}

} // namespace
} // namespace lathe
