# SPDX-License-Identifier: GPL-3.0-or-later
"""The heading every benchmark table in RESULTS.md starts with: date, CPU, cores, OS, commit."""
import datetime
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "unknown CPU")
    except OSError:
        return "unknown CPU"


def commit():
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()


def heading():
    """'### 2026-11-25 — AMD EPYC …, 2 cores, Linux 6.1…' (print it, then the commit line)."""
    return f"### {datetime.date.today()} — {cpu_name()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
