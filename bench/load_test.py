#!/usr/bin/env python3
"""Load checks of issue 12: many processes at once, and one very long render.

  1. 50 `lathe analyze --json` processes started at once on 50 short files (Lathe's demo mix,
     different seeds): every one must exit 0 with a parsable report.
  2. A 3-hour 96 kHz stereo 24-bit file (6.2 GB) mastered with the default preset (EQ,
     multiband, limiter, -14 LUFS targeting): it must succeed, and its peak RSS (GNU time) must
     stay within 512 MiB — rendering streams; only the analysis history grows with length.

The big input and output are written to build/bench-cache/load/ and removed afterwards.

  bench/load_test.py [--build build/release] [--processes 50] [--hours 3] [--rate 96000]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent
RSS_LIMIT_MIB = 512


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build" / "release"))
    ap.add_argument("--processes", type=int, default=50)
    ap.add_argument("--hours", type=float, default=3.0)
    ap.add_argument("--rate", type=int, default=96000)
    args = ap.parse_args()
    lathe = str(Path(args.build) / "cli" / "lathe")
    work = ROOT / "build" / "bench-cache" / "load"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    failures = []

    # 1. Many processes at once.
    shorts = []
    for k in range(args.processes):
        f = work / f"short{k:02d}.wav"
        subprocess.run([lathe, "--quiet", "demo-mix", "-o", str(f), "--duration", "10", "--seed", str(k + 1)],
                       check=True)
        shorts.append(f)
    t = time.monotonic()
    procs = [subprocess.Popen([lathe, "--quiet", "analyze", "--json", str(f)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for f in shorts]
    ok = 0
    for f, p in zip(shorts, procs):
        out, err = p.communicate()
        try:
            report = json.loads(out)
            good = p.returncode == 0 and report.get("loudness", {}).get("integrated_lufs") is not None
        except json.JSONDecodeError:
            good = False
        if good:
            ok += 1
        else:
            failures.append(f"analyze {f.name}: exit {p.returncode}: {err.strip()[-300:]}")
    concurrent_s = time.monotonic() - t

    # 2. One long render.
    long_in = work / "long.wav"
    long_out = work / "long-master.wav"
    t = time.monotonic()
    subprocess.run([lathe, "--quiet", "demo-mix", "-o", str(long_in), "--duration", str(int(args.hours * 3600)),
                    "--rate", str(args.rate)], check=True)
    generate_s = time.monotonic() - t
    os.sync()
    t = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", lathe, "--quiet", "master", str(long_in), "-o",
                           str(long_out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    render_s = time.monotonic() - t
    wall, rss_kib = proc.stderr.strip().splitlines()[-1].split()
    rss_mib = float(rss_kib) / 1024
    if proc.returncode != 0:
        failures.append(f"master of the {args.hours:g} h file: exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    if rss_mib > RSS_LIMIT_MIB:
        failures.append(f"master of the {args.hours:g} h file: peak RSS {rss_mib:.0f} MiB > {RSS_LIMIT_MIB} MiB")
    size_gb = long_in.stat().st_size / 1e9
    shutil.rmtree(work, ignore_errors=True)

    print(machine.heading())
    print(f"commit {machine.commit()}; `bench/load_test.py --processes {args.processes} --hours {args.hours:g} "
          f"--rate {args.rate}`\n")
    print("| check | result |")
    print("|---|---|")
    print(f"| {args.processes} × `lathe analyze --json` at once, 10 s files | {ok}/{args.processes} exit 0 with a "
          f"report, {concurrent_s:.1f} s wall for all |")
    print(f"| `lathe master` (default preset, −14 LUFS), {args.hours:g} h {args.rate / 1000:g} kHz stereo 24-bit "
          f"({size_gb:.1f} GB) | exit {proc.returncode}, {float(wall):.1f} s "
          f"({args.hours * 3600 / float(wall):.0f}× real time), peak RSS **{rss_mib:.0f} MiB** (limit {RSS_LIMIT_MIB}) |")
    print(f"\n(generating the long input took {generate_s:.0f} s)")
    if failures:
        print("\nFAILURES:\n" + "\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
