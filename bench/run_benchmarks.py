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
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(cmd):
    """Runs cmd under GNU time; returns (wall seconds, peak RSS in MiB). Fails loudly on a non-zero exit.

    Peak RSS comes from /usr/bin/time rather than os.wait4: a child forked from Python carries
    Python's own resident pages in ru_maxrss until it execs, which would hide small processes.
    """
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build" / "release"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-60min", action="store_true", help="skip the 60-minute memory check")
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
    rows = [
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
    rows += [
        compare("analyze 10 min 48k/24 (I + LRA + TP + history)", analyze + [ten], "libebur128 (I, LRA, TP)",
                [str(peer_ebur128), ten], 600, args.runs),
        compare("analyze 10 min 48k/24 (I + LRA + TP + history)", analyze + [ten], "ffmpeg ebur128=peak=true",
                ffmpeg_ebur128, 600, args.runs),
        # Issue 5: the full analysis and HTML report against loudness alone (target: at most 2x).
        compare("analyze --html 10 min (loudness + spectrum + spectrogram + stereo + readiness)", full + [ten],
                "lathe analyze --loudness-only", analyze + [ten], 600, args.runs),
    ]
    singles = []
    if not args.skip_60min:
        singles.append(once("analyze 60 min 48k/24 (memory)", analyze + [str(mixes[60])], 3600))
        singles.append(once("analyze --html 60 min 48k/24, everything (memory)", full + [str(mixes[60])], 3600))
        sixty = str(mixes[60])
        singles.append(once("convert 60 min 48k/24 → 24-bit WAV (memory)", q + [sixty, "-o", str(out / "l-60.wav")],
                            3600))
        singles.append(once("convert 60 min 48k → 44.1k 24-bit (memory)",
                            q + [sixty, "-o", str(out / "l-60-src.wav"), "--rate", "44100", "--bits", "24"], 3600))

    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    sox_version = subprocess.run(["sox", "--version"], capture_output=True, text=True).stdout.strip()
    ffmpeg_version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"### {datetime.date.today()} — {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}")
    print(f"commit {commit}; {sox_version}; {ffmpeg_version}; median of {args.runs} alternating runs after 1 warm-up each\n")
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
