// SPDX-License-Identifier: GPL-3.0-or-later
// The platform table and what each rule does to a master, against hand-computed values.
#include <lathe/Error.h>
#include <lathe/Platforms.h>

#include <gtest/gtest.h>

#include <set>

namespace lathe {
namespace {

LoudnessResult master(double integrated, double truePeak) {
    LoudnessResult r;
    r.integratedLufs = integrated;
    r.truePeakDbtp = TimedLevel{truePeak, 1.0};
    return r;
}

const PlatformPreview& find(const std::vector<PlatformPreview>& v, const std::string& id) {
    for (const auto& p : v) {
        if (p.id == id) {
            return p;
        }
    }
    throw std::runtime_error("no platform " + id);
}

TEST(Platforms, BuiltinTableIsCompleteAndSourced) {
    const auto& t = builtinPlatforms();
    std::set<std::string> ids;
    for (const auto& p : t) {
        ids.insert(p.id);
        EXPECT_FALSE(p.source.empty()) << p.id;
        EXPECT_FALSE(p.date.empty()) << p.id;
    }
    EXPECT_EQ(ids.size(), t.size());
    for (const char* id :
         {"spotify", "spotify-loud", "spotify-quiet", "apple-music", "youtube", "tidal", "amazon-music",
          "deezer", "soundcloud", "apple-podcasts", "ebu-r128", "atsc-a85"}) {
        EXPECT_EQ(ids.count(id), 1u) << id;
    }
}

TEST(Platforms, LoudMasterIsTurnedDownEverywhereThatNormalises) {
    const auto v = previewPlatforms(master(-8.0, -0.3), builtinPlatforms());
    EXPECT_DOUBLE_EQ(*find(v, "spotify").gainDb, -6.0);
    EXPECT_DOUBLE_EQ(*find(v, "spotify").truePeakDbtp, -6.3);
    EXPECT_TRUE(*find(v, "spotify").truePeakOk);
    EXPECT_DOUBLE_EQ(*find(v, "youtube").gainDb, -6.0);
    EXPECT_DOUBLE_EQ(*find(v, "apple-music").gainDb, -8.0);
    EXPECT_DOUBLE_EQ(*find(v, "soundcloud").gainDb, 0.0);
    EXPECT_FALSE(*find(v, "soundcloud").truePeakOk); // −0.3 dBTP is above the −1 dBTP advice
    EXPECT_FALSE(*find(v, "ebu-r128").compliant);
}

TEST(Platforms, QuietMasterAndTheUpGainRules) {
    const auto v = previewPlatforms(master(-20.0, -6.0), builtinPlatforms());
    // Spotify Normal: +6 dB needed, but up-gain stops at −1 dBTP: +5 dB, plays at −15 LUFS.
    EXPECT_DOUBLE_EQ(*find(v, "spotify").gainDb, 5.0);
    EXPECT_DOUBLE_EQ(*find(v, "spotify").loudnessLufs, -15.0);
    EXPECT_DOUBLE_EQ(*find(v, "spotify").truePeakDbtp, -1.0);
    // Spotify Loud: +9 dB, the limiter holds the peak at −1 dBTP.
    EXPECT_DOUBLE_EQ(*find(v, "spotify-loud").gainDb, 9.0);
    EXPECT_DOUBLE_EQ(*find(v, "spotify-loud").truePeakDbtp, -1.0);
    EXPECT_NE(find(v, "spotify-loud").note.find("limiter"), std::string::npos);
    // Down-only platforms leave it alone.
    EXPECT_DOUBLE_EQ(*find(v, "youtube").gainDb, 0.0);
    EXPECT_DOUBLE_EQ(*find(v, "tidal").loudnessLufs, -20.0);
    // Spotify Quiet turns it down by 0... no: −19 target, −20 master: +1 dB (peak −5 is fine).
    EXPECT_DOUBLE_EQ(*find(v, "spotify-quiet").gainDb, 1.0);
}

TEST(Platforms, DeliverySpecifications) {
    auto v = previewPlatforms(master(-23.4, -3.0), builtinPlatforms());
    EXPECT_TRUE(*find(v, "ebu-r128").compliant);
    EXPECT_FALSE(*find(v, "apple-podcasts").compliant);
    EXPECT_TRUE(*find(v, "atsc-a85").compliant); // −23.4 is within −24 ± 2
    v = previewPlatforms(master(-23.0, -0.5), builtinPlatforms());
    EXPECT_FALSE(*find(v, "ebu-r128").compliant); // loudness fine, true peak over −1 dBTP
    EXPECT_NE(find(v, "ebu-r128").note.find("true peak"), std::string::npos);
}

TEST(Platforms, NoIntegratedLoudnessMeansNoGain) {
    LoudnessResult silence;
    silence.integratedNote = "silence: no 400 ms block above the −70 LUFS absolute gate";
    const auto v = previewPlatforms(silence, builtinPlatforms());
    EXPECT_FALSE(find(v, "spotify").gainDb);
    EXPECT_NE(find(v, "spotify").note.find("silence"), std::string::npos);
    EXPECT_DOUBLE_EQ(*find(v, "soundcloud").gainDb, 0.0);
}

TEST(Platforms, ParseErrorsNameTheField) {
    auto message = [](const std::string& json) {
        try {
            parsePlatforms(json, "my.json");
        } catch (const UsageError& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_NE(message("{").find("my.json: not valid JSON"), std::string::npos);
    EXPECT_NE(message(R"({"schema":"lathe-platforms","version":2,"platforms":[]})").find("version"),
              std::string::npos);
    const std::string base = R"({"schema":"lathe-platforms","version":1,"platforms":[{"id":"x","name":"X",)";
    EXPECT_NE(
        message(
            base +
            R"("normalization":"sideways","target_lufs":-14,"true_peak_max_dbtp":-1,"source":"s","date":"d"}]})")
            .find("platforms[0] (x).normalization: 'sideways'"),
        std::string::npos);
    EXPECT_NE(
        message(base + R"("normalization":"down-only","true_peak_max_dbtp":-1,"source":"s","date":"d"}]})")
            .find("target_lufs: required"),
        std::string::npos);
    EXPECT_NE(message(base + R"("normalization":"down-only","target_lufs":-14,"source":"s","date":"d"}]})")
                  .find("true_peak_max_dbtp"),
              std::string::npos);
}

} // namespace
} // namespace lathe

namespace lathe {
namespace {

TEST(PlatformCodecs, TheBuiltInTableNamesFourRealCodecsAndEveryPlatformCodecExists) {
    const auto& codecs = builtinPlatformCodecs();
    ASSERT_EQ(codecs.size(), 4u);
    for (const auto& p : builtinPlatforms()) {
        if (!p.codec.empty()) {
            EXPECT_TRUE(std::any_of(codecs.begin(), codecs.end(), [&](const auto& c) {
                return c.id == p.codec;
            })) << p.id;
        }
    }
    const auto apple = std::find_if(builtinPlatforms().begin(), builtinPlatforms().end(),
                                    [](const Platform& p) { return p.id == "apple-music"; });
    ASSERT_NE(apple, builtinPlatforms().end());
    EXPECT_EQ(apple->codec, "aac-256");
}

TEST(PlatformCodecs, AnUnknownCodecOrEncoderIsRefusedNamingTheField) {
    const std::string head =
        R"({"schema":"lathe-platforms","version":1,"codecs":[{"id":"x","name":"X","encoder":)";
    const std::string platform =
        R"("platforms":[{"id":"p","name":"P","normalization":"none","true_peak_max_dbtp":-1,"source":"s","date":"d","codec":"y"}]})";
    try {
        parsePlatforms(head + R"("aac","bitrate_kbps":256,"source":"s"}],)" + platform, "t.json");
        ADD_FAILURE();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("'y' is not in the table's codecs"), std::string::npos)
            << e.what();
    }
    try {
        parsePlatformCodecs(head + R"("wma","bitrate_kbps":256,"source":"s"}],"platforms":[]})", "t.json");
        ADD_FAILURE();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("encoder"), std::string::npos) << e.what();
    }
}

} // namespace
} // namespace lathe
