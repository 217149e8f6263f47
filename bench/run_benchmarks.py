#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lathe benchmarks, side by side with the tools people use today, in one invocation.

Each case runs Lathe and its peer alternately (1 warm-up each, then --runs timed runs), reports the
median wall time, the real-time factor (audio seconds / wall seconds), Lathe's time as a ratio of
the peer's, and the peak RSS of each process (from wait4). Absolute times drift between machines;
the ratios measured in the same run are the numbers to compare. Paste the table into RESULTS.md.

  bench/run_benchmarks.py [--build build/release] [--runs 5] [--skip-60min]

Test audio is Lathe's own demo-mix generator (deterministic), written once into
build/bench-cache/ and never committed.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent


def fresh(outputs):
    """Before every timed run of any tool: remove its previous outputs and flush dirty pages, so no
    run pays for (or profits from) the write-back of the one before. Writing a new file costs
    ~2.6 ms/MB here while the previous run's pages are still being written back."""
    for o in outputs:
        try:
            os.unlink(o)
        except FileNotFoundError:
            pass
    os.sync()


def outputs_of(cmd):
    """The output files a command names (after -o, or a peer's last argument ending in .wav)."""
    cmd = list(map(str, cmd))
    outs = [cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a in ("-o", "--output")]
    outs += [a for a in cmd if a.endswith(".wav") and "/out/" in a]
    return outs


def measure(cmd):
    """Runs cmd under GNU time; returns (wall seconds, peak RSS in MiB). Fails loudly on a non-zero exit.

    Peak RSS comes from /usr/bin/time rather than os.wait4: a child forked from Python carries
    Python's own resident pages in ru_maxrss until it execs, which would hide small processes.
    """
    fresh(outputs_of(cmd))
    timed = ["/usr/bin/time", "-f", "%e %M", *map(str, cmd)]
    proc = subprocess.run(timed, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr}")
    wall, rss_kib = proc.stderr.strip().splitlines()[-1].split()
    return float(wall), float(rss_kib) / 1024.0


def compare(name, lathe_cmd, peer_name, peer_cmd, audio_seconds, runs):
    measure(lathe_cmd)
    measure(peer_cmd)
    lt, pt, lr, pr = [], [], [], []
    for _ in range(runs):
        w, r = measure(lathe_cmd)
        lt.append(w)
        lr.append(r)
        w, r = measure(peer_cmd)
        pt.append(w)
        pr.append(r)
    l, p = statistics.median(lt), statistics.median(pt)
    return {
        "case": name, "peer": peer_name, "lathe_s": l, "peer_s": p, "ratio": l / p,
        "lathe_rtf": audio_seconds / l, "peer_rtf": audio_seconds / p,
        "lathe_rss": max(lr), "peer_rss": max(pr),
        "lathe_cmd": " ".join(map(str, lathe_cmd)), "peer_cmd": " ".join(map(str, peer_cmd)),
    }


def once(name, cmd, audio_seconds):
    w, r = measure(cmd)
    return {"case": name, "lathe_s": w, "lathe_rtf": audio_seconds / w, "lathe_rss": r,
            "lathe_cmd": " ".join(map(str, cmd))}


def chain_cases(lathe, cache, out, ten, sixty, runs):
    """Issue 6: linear-phase EQ and convolution reverb against ffmpeg afir and sox fir
    (settings and pitfalls from ../shared/reference/peers.md)."""
    m = [str(lathe), "--quiet", "--backend", "auto", "master"]
    fir_wav, fir_txt = cache / "fir-16385.wav", cache / "fir-16385.txt"
    ir8 = cache / "ir-cathedral-8s.wav"
    # The same 16385-tap FIR for every tool: gentle-polish's EQ at a fixed length.
    for f in (fir_wav, fir_txt):
        subprocess.run([str(lathe), "--quiet", "fir", "gentle-polish", "--set", "eq.taps=16385", "-o", str(f)],
                       check=True)
    # An 8.000 s stereo IR (Lathe's cathedral room, cut to 8 s) for every tool.
    if not ir8.exists():
        subprocess.run([str(lathe), "--quiet", "ir", "cathedral", "-o", str(cache / "ir-cathedral.wav")], check=True)
        subprocess.run(["sox", str(cache / "ir-cathedral.wav"), str(ir8), "trim", "0", "8"], check=True)
    reverb_preset = cache / "reverb-8s.json"
    reverb_preset.write_text('{"schema": "lathe.preset/1", "name": "bench-reverb-8s", "stages": [{"type": "reverb", '
                             f'"ir": "{ir8}", "wet_db": 0, "dry_db": 0, "normalize": "none"}}]}}\n')
    eq = m + [ten, "-o", str(out / "l-eq.wav"), "--bits", "32f", "--preset", "gentle-polish", "--set",
              "eq.taps=16385"]
    afir_eq = ["ffmpeg", "-v", "error", "-y", "-i", ten, "-i", str(fir_wav), "-filter_complex",
               "[1:a]aformat=channel_layouts=mono[ir];[0:a][ir]afir=gtype=none:irgain=0.5:irfmt=mono,"
               "aformat=channel_layouts=stereo", "-c:a", "pcm_f32le", str(out / "f-eq.wav")]
    sox_eq = ["sox", ten, "-e", "floating-point", "-b", "32", str(out / "s-eq.wav"), "fir", str(fir_txt)]
    reverb = m + [ten, "-o", str(out / "l-rev.wav"), "--bits", "32f", "--preset", str(reverb_preset)]
    # afir stops at the last input sample: pad the input by the IR length to keep the tail.
    afir_rev = ["ffmpeg", "-v", "error", "-y", "-i", ten, "-i", str(ir8), "-filter_complex",
                "[0:a]apad=pad_dur=8[a];[a][1:a]afir=dry=1:wet=1:length=1:gtype=none:irgain=0.5:maxir=30",
                "-c:a", "pcm_f32le", str(out / "f-rev.wav")]
    floor = m + [ten, "-o", str(out / "l-floor.wav"), "--bits", "32f", "--preset", "transparent"]
    ffmpeg_floor = ["ffmpeg", "-v", "error", "-y", "-i", ten, "-c:a", "pcm_f32le", str(out / "f-floor.wav")]
    rows = [
        compare("I/O floor: no processing, 10 min 48k/24 → f32 (context for the rows below)", floor,
                "ffmpeg copy", ffmpeg_floor, 600, runs),
        compare("linear-phase EQ, 16385 taps, 10 min 48k stereo → f32 (latency removed, length kept)", eq,
                "ffmpeg afir", afir_eq, 600, runs),
        compare("linear-phase EQ, 16385 taps, 10 min 48k stereo → f32 (latency removed, length kept)", eq,
                "sox fir", sox_eq, 600, runs),
        compare("convolution reverb, 8 s stereo IR, 10 min 48k stereo → f32, tail kept", reverb,
                "ffmpeg apad+afir", afir_rev, 600, runs),
    ]
    # Issue 7: multiband vs mcompand (with asetnsamples, else it emits NaN), the
    # limiter at +6 dB drive vs alimiter, and the default master vs the equivalent ffmpeg chain.
    mb_preset = cache / "multiband-4.json"
    mb_preset.write_text('{"schema": "lathe.preset/1", "name": "bench-multiband-4", "stages": [{"type": "multiband", '
                         '"splits_hz": [120, 1000, 6000], "bands": ['
                         '{"threshold_db": -30, "ratio": 2, "attack_ms": 5, "release_ms": 100}, '
                         '{"threshold_db": -30, "ratio": 2, "attack_ms": 3, "release_ms": 80}, '
                         '{"threshold_db": -30, "ratio": 2, "attack_ms": 1, "release_ms": 50}, '
                         '{"threshold_db": -30, "ratio": 2, "attack_ms": 1, "release_ms": 30}]}]}\n')
    lim_preset = cache / "limiter-6db.json"
    lim_preset.write_text('{"schema": "lathe.preset/1", "name": "bench-limiter", "stages": [{"type": "limiter", '
                          '"ceiling_dbtp": -1, "input_gain_db": 6, "lookahead_ms": 5, "release_ms": 50}]}\n')
    curve = "-80/-80,-30/-30,0/-15"
    mcompand = (f"asetnsamples=n=4096:p=0,mcompand=args='0.005,0.1 6 {curve} 120 | 0.003,0.08 6 {curve} 1000 | "
                f"0.001,0.05 6 {curve} 6000 | 0.001,0.03 6 {curve} 22000'")
    rows += [
        compare("multiband, 4 bands (120/1000/6000 Hz, 2:1 above -30 dB), 10 min → f32", m + [
            ten, "-o", str(out / "l-mb.wav"), "--bits", "32f", "--preset", str(mb_preset)], "ffmpeg mcompand",
            ["ffmpeg", "-v", "error", "-y", "-i", ten, "-af", mcompand, "-c:a", "pcm_f32le", str(out / "f-mb.wav")],
            600, runs),
        compare("true-peak limiter, +6 dB into -1 dBTP, 10 min → f32", m + [
            ten, "-o", str(out / "l-lim.wav"), "--bits", "32f", "--preset", str(lim_preset)], "ffmpeg alimiter",
            ["ffmpeg", "-v", "error", "-y", "-i", ten, "-af",
             "alimiter=level_in=2:limit=0.891251:attack=5:release=50:level=false", "-c:a", "pcm_f32le",
             str(out / "f-lim.wav")], 600, runs),
        # The peer chains do what each preset does: the default has no reverb (the row compared it
        # with a chain that had one until 2026-11-27); glue-master, issue 8's benchmark chain, has.
        compare("default master (EQ + 4-band glue + limiter + -14 LUFS target), 10 min → 24-bit", m + [
            ten, "-o", str(out / "l-default.wav")], "ffmpeg afir EQ + mcompand + alimiter + ebur128",
            ["ffmpeg", "-v", "error", "-y", "-i", ten, "-i", str(fir_wav), "-filter_complex",
             "[1:a]aformat=channel_layouts=mono[eq];[0:a][eq]afir=gtype=none:irgain=0.5:irfmt=mono,"
             "aformat=channel_layouts=stereo," + mcompand +
             ",alimiter=level_in=1:limit=0.891251:attack=5:release=50:level=false,ebur128=peak=true",
             "-c:a", "pcm_s24le", str(out / "f-default.wav")], 600, runs),
        compare("glue-master (EQ + room + 4-band glue + limiter + -14 LUFS target), 10 min → 24-bit", m + [
            ten, "-o", str(out / "l-glue.wav"), "--preset", "glue-master"],
            "ffmpeg afir EQ + afir reverb + mcompand + alimiter + ebur128",
            ["ffmpeg", "-v", "error", "-y", "-i", ten, "-i", str(fir_wav), "-i", str(ir8), "-filter_complex",
             "[1:a]aformat=channel_layouts=mono[eq];[0:a][eq]afir=gtype=none:irgain=0.5:irfmt=mono,"
             "aformat=channel_layouts=stereo[e];[e][2:a]afir=dry=1:wet=1:length=1:gtype=none:irgain=0.5:maxir=30,"
             + mcompand + ",alimiter=level_in=1:limit=0.891251:attack=5:release=50:level=false,ebur128=peak=true",
             "-c:a", "pcm_s24le", str(out / "f-glue.wav")], 600, runs),
    ]
    singles = []
    if sixty is not None:
        singles.append(once("default master, 60 min 48k stereo (memory)", m + [sixty, "-o", str(out / "l-default-60.wav")],
                            3600))
        singles.append(once("convolution reverb, 8 s IR, 60 min 48k stereo (memory)",
                            m + [sixty, "-o", str(out / "l-rev-60.wav"), "--bits", "32f", "--preset",
                                 str(reverb_preset)], 3600))
        singles.append(once("master gentle-polish (65535-tap EQ), 60 min 48k stereo (memory)",
                            m + [sixty, "-o", str(out / "l-eq-60.wav"), "--preset", "gentle-polish"], 3600))
    return rows, singles


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build" / "release"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-60min", action="store_true", help="skip the 60-minute memory check")
    ap.add_argument("--only", choices=["convert", "analyze", "chain", "translation"], help="run one group of cases")
    args = ap.parse_args()

    lathe = Path(args.build) / "cli" / "lathe"
    if not lathe.exists():
        sys.exit(f"{lathe} not found: run scripts/build first")
    peer_ebur128 = Path(args.build) / "bench" / "ebur128_measure"
    if not peer_ebur128.exists():
        sys.exit(f"{peer_ebur128} not found: build with LATHE_BUILD_BENCH=ON (scripts/build does)")
    for tool in ("sox", "ffmpeg", "/usr/bin/time"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: run scripts/deps")

    cache = ROOT / "build" / "bench-cache"
    out = cache / "out"
    out.mkdir(parents=True, exist_ok=True)
    mixes = {10: cache / "mix-10min-48k-24bit.wav", 60: cache / "mix-60min-48k-24bit.wav"}
    for minutes, path in mixes.items():
        if minutes == 60 and args.skip_60min:
            continue
        if not path.exists():
            print(f"generating {path.name} ...", file=sys.stderr)
            subprocess.run([str(lathe), "--quiet", "demo-mix", "-o", str(path), "--duration", str(minutes * 60)],
                           check=True)

    q = [str(lathe), "--quiet", "--backend", "cpu", "convert"]
    ten = str(mixes[10])
    want = lambda group: args.only is None or args.only == group
    rows = []
    singles = []
    if want("chain"):
        chain_rows, chain_singles = chain_cases(lathe, cache, out, ten, None if args.skip_60min else str(mixes[60]),
                                                args.runs)
        rows += chain_rows
        singles += chain_singles
    if want("convert"):
        rows += [
        compare("convert 10 min 48k/24 WAV → 24-bit WAV", q + [ten, "-o", str(out / "l-copy.wav")],
                "sox", ["sox", ten, str(out / "s-copy.wav")], 600, args.runs),
        compare("convert 10 min 48k → 44.1k 24-bit, TPDF dither", q + [ten, "-o", str(out / "l-src.wav"), "--rate",
                "44100", "--bits", "24"],
                "sox -v", ["sox", ten, "-b", "24", str(out / "s-src.wav"), "rate", "-v", "44100", "dither"], 600,
                args.runs),
        ]
    analyze = [str(lathe), "--quiet", "analyze", "--json", "--loudness-only"]
    full = [str(lathe), "--quiet", "analyze", "--json", "--html", str(out / "report.html")]
    ffmpeg_ebur128 = ["ffmpeg", "-hide_banner", "-nostats", "-i", ten, "-af", "ebur128=peak=true", "-f", "null", "-"]
    if want("analyze"):
        rows += [
        compare("analyze 10 min 48k/24 (I + LRA + TP + history)", analyze + [ten], "libebur128 (I, LRA, TP)",
                [str(peer_ebur128), ten], 600, args.runs),
        compare("analyze 10 min 48k/24 (I + LRA + TP + history)", analyze + [ten], "ffmpeg ebur128=peak=true",
                ffmpeg_ebur128, 600, args.runs),
        # Issue 5: the full analysis and HTML report against loudness alone (target: at most 2x).
        compare("analyze --html 10 min (loudness + spectrum + spectrogram + stereo + readiness)", full + [ten],
                "lathe analyze --loudness-only", analyze + [ten], 600, args.runs),
        ]
    if want("translation"):
        # Issue 9: the nine speaker models and the four codec round trips, target ≥ 20× real time for
        # both commands together. Peer: what one scripts with ffmpeg today — each codec encoded,
        # decoded and measured (ebur128 with true peak), one after another, no speaker models.
        codec_peer = " && ".join(
            f"ffmpeg -v error -i {ten} -c:a {enc} -b:a {kbps}k -f {fmt} - | "
            f"ffmpeg -v error -nostats -i - -af ebur128=peak=true -f null -"
            for enc, kbps, fmt in (("aac", 256, "adts"), ("libvorbis", 320, "ogg"), ("libopus", 160, "ogg"),
                                   ("libmp3lame", 320, "mp3")))
        lq = f"{lathe} --quiet"
        rows += [
        compare("preview-codecs 10 min (AAC 256, Vorbis 320, Opus 160, MP3 320: TP, loudness, spectrum)",
                ["bash", "-c", f"{lq} preview-codecs {ten} --json > /dev/null"],
                "ffmpeg encode → decode + ebur128, 4 codecs", ["bash", "-c", codec_peer], 600, args.runs),
        compare("compare --speakers all + preview-codecs 10 min (9 models + 4 codecs)",
                ["bash", "-c", f"{lq} compare {ten} --speakers all --json > /dev/null && "
                               f"{lq} preview-codecs {ten} --json > /dev/null"],
                "ffmpeg encode → decode + ebur128, 4 codecs", ["bash", "-c", codec_peer], 600, args.runs),
        ]
    if not args.skip_60min and args.only is None:
        singles.append(once("analyze 60 min 48k/24 (memory)", analyze + [str(mixes[60])], 3600))
        singles.append(once("analyze --html 60 min 48k/24, everything (memory)", full + [str(mixes[60])], 3600))
        sixty = str(mixes[60])
        singles.append(once("convert 60 min 48k/24 → 24-bit WAV (memory)", q + [sixty, "-o", str(out / "l-60.wav")],
                            3600))
        singles.append(once("convert 60 min 48k → 44.1k 24-bit (memory)",
                            q + [sixty, "-o", str(out / "l-60-src.wav"), "--rate", "44100", "--bits", "24"], 3600))

    sox_version = subprocess.run(["sox", "--version"], capture_output=True, text=True).stdout.strip()
    ffmpeg_version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(machine.heading())
    print(f"commit {machine.commit()}; {sox_version}; {ffmpeg_version}; median of {args.runs} alternating runs after 1 warm-up each\n")
    print("| case | Lathe s | peer | peer s | Lathe/peer | Lathe RTF | peer RTF | Lathe RSS MiB | peer RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['lathe_s']:.3f} | {r['peer']} | {r['peer_s']:.3f} | **{r['ratio']:.2f}×** | "
              f"{r['lathe_rtf']:.0f}× | {r['peer_rtf']:.0f}× | {r['lathe_rss']:.1f} | {r['peer_rss']:.1f} |")
    for r in singles:
        print(f"| {r['case']} | {r['lathe_s']:.3f} | — | — | — | {r['lathe_rtf']:.0f}× | — | **{r['lathe_rss']:.1f}** | — |")
    print("\nCommands:")
    for r in rows + singles:
        print(f"- `{r['lathe_cmd']}`" + (f" vs `{r['peer_cmd']}`" if "peer_cmd" in r else ""))


if __name__ == "__main__":
    main()
