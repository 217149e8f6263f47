#!/usr/bin/env python3
"""Catalogue throughput of `lathe batch` (issue 11), side by side in one invocation.

N generated 3-minute files (Lathe's demo-mix generator, different seeds; written once into
build/bench-cache/batch-in/) are analysed and mastered with the default preset three ways:

  1. `lathe batch DIR --jobs 1`                     one file at a time, on one core
  2. `lathe batch DIR --jobs J`                     J files at once, one core each
  3. `lathe batch FILE --jobs 1` for every file     single-file runs, one after another

and prints the wall times, hours of audio per hour of wall time, the throughput of (2) against (1)
and (2) against the sum of (3) divided by J. Every run writes into a fresh directory (removed
afterwards) and starts after `sync`.

  bench/batch_throughput.py [--build build/release] [--files 100] [--minutes 3] [--jobs 2]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd):
    os.sync()
    t = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build" / "release"))
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    lathe = Path(args.build) / "cli" / "lathe"
    if not lathe.exists():
        sys.exit(f"{lathe} not found: run scripts/build first")

    cache = ROOT / "build" / "bench-cache"
    src = cache / f"batch-in-{args.files}x{args.minutes:g}min"
    src.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(args.files):
        f = src / f"song{k:03d}.wav"
        if not f.exists():
            subprocess.run([str(lathe), "--quiet", "demo-mix", "-o", str(f), "--duration", str(args.minutes * 60),
                            "--seed", str(k + 1)], check=True)
        files.append(f)
    audio_h = args.files * args.minutes / 60.0
    work = cache / "batch-out"

    def fresh(name):
        d = work / name
        shutil.rmtree(d, ignore_errors=True)
        return d

    q = [str(lathe), "--quiet", "batch"]
    one = timed(q + [str(src), "-o", str(fresh("jobs1")), "--jobs", "1"])
    many = timed(q + [str(src), "-o", str(fresh(f"jobs{args.jobs}")), "--jobs", str(args.jobs)])
    d = fresh("single")
    singles = sum(timed(q + [str(f), "-o", str(d), "--jobs", "1"]) for f in files)
    shutil.rmtree(work, ignore_errors=True)

    print(machine.heading())
    print(f"commit {machine.commit()}; {args.files} files × {args.minutes:g} min ({audio_h:.1f} h of 48 kHz stereo 24-bit), "
          f"default preset (EQ, multiband, limiter, −14 LUFS), analysis before and after every file\n")
    print("| run | wall s | audio h per wall h |")
    print("|---|---|---|")
    print(f"| `--jobs 1` | {one:.1f} | {audio_h * 3600 / one:.0f} |")
    print(f"| `--jobs {args.jobs}` | {many:.1f} | {audio_h * 3600 / many:.0f} |")
    print(f"| {args.files} single-file runs, summed | {singles:.1f} | {audio_h * 3600 / singles:.0f} |")
    print(f"\nthroughput `--jobs {args.jobs}` / `--jobs 1`: **{one / many:.2f}×**; "
          f"wall of `--jobs {args.jobs}` against (sum of single-file runs) / {args.jobs}: "
          f"**{many / (singles / args.jobs):.2f}**")


if __name__ == "__main__":
    main()
