#!/usr/bin/env bash
# GPU-machine timing of issue 8's benchmark alone (scripts/device-bundle copies it into the bundle
# as hour.sh): one hour of 48 kHz/24-bit stereo, convert on both backends, the default master and
# the issue's full chain (the glue-master preset with --html: the reverb and the analysis before
# and after included), each master's breakdown from its report. About 150 s there (estimated). With a second
# build in the bundle as bin/lathe-base (another commit's lathe, built with the device-sm90 preset
# and stripped), its masters alternate with this one's in the same call — the only fair A/B: the
# lent machines' CPUs differ by 20–30 % from call to call.
# Usage (there): bash .device/hour.sh; HOUR_ROUNDS=1 for one round of the alternating masters
# (about half the time: for a short device budget).
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"
L=$(mktemp -d); tar -C "$L" -xJf "$D/lib.tar.xz"
export LD_LIBRARY_PATH="$L/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
OUT="${OUT:-$D/out}"; mkdir -p "$OUT"; W=$(mktemp -d)
exec > >(tee "$OUT/summary.txt") 2>&1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; nproc
"$D/bin/lathe" --quiet demo-mix -o "$W/h.wav" --duration 3600
tm() { # a command's wall time
  local s e; s=$(date +%s%N); "$@" >/dev/null 2>"$W/err"; local rc=$?; e=$(date +%s%N)
  echo "$(( (e - s) / 1000000 )) ms (exit $rc)"; [[ $rc == 0 ]] || tail -3 "$W/err"
}
breakdown() { # a master report's stages, threads' work, targeting steps and device time
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); t = d["targeting"]
print("  stages", [(s["name"], round(s["seconds"], 3)) for s in d["stages"]],
      "decode %.3f encode %.3f output end %.3f (tap %.3f)" % (d["decode_seconds"], d["encode_seconds"],
                                                              d.get("output_seconds", 0), d.get("tap_seconds", 0)))
print("  targeting: render %.3f measurement %.3f trial %.3f (on device: %s) passes %s" % (
    t["pre_limiter_render_s"], t["pre_limiter_measure_s"], t["trial_s"], (t.get("trial") or {}).get("on_device"),
    [round(p["seconds"], 3) for p in t["passes"]]),
    "intermediate", t.get("intermediate"))
def times(x):
    return x and ("decode %.3f stages %.3f output %.3f (tap %.3f) encode %.3f; setup %.3f drain %.3f; "
                  "waits: read %.3f sink %.3f write %.3f") % (
        x["decode_s"], x["stages_s"], x["output_s"], x["tap_s"], x["encode_s"], x.get("setup_s", 0),
        x.get("drain_s", 0), x.get("read_wait_s", 0), x.get("sink_wait_s", 0), x.get("write_wait_s", 0))
if "pre_limiter_times" in t:
    print("  pre-limiter render:", times(t["pre_limiter_times"]))
    for p in t["passes"]:
        print("  pass:", times(p["times"]), "measurement %.3f" % p.get("measure_s", 0))
dt = d.get("device_timing")
if dt:
    rate = lambda b, s: b / s / 1e9 if s > 0 else 0.0
    print("  device: H2D %.3f s (%.0f MB, %.1f GB/s), kernels %.3f s, D2H %.3f s (%.0f MB, %.1f GB/s); "
          "page-locked at most %.0f MB" % (
        dt["host_to_device_seconds"], dt["host_to_device_bytes"] / 1e6,
        rate(dt["host_to_device_bytes"], dt["host_to_device_seconds"]), dt["kernel_seconds"],
        dt["device_to_host_seconds"], dt["device_to_host_bytes"] / 1e6,
        rate(dt["device_to_host_bytes"], dt["device_to_host_seconds"]), dt.get("peak_pinned_bytes", 0) / 1e6))
PY
}
builds=(lathe); [[ -x "$D/bin/lathe-base" ]] && builds=(lathe-base lathe)
for round in $(seq 1 "${HOUR_ROUNDS:-2}"); do
  for v in "${builds[@]}"; do
    for b in cuda cpu; do
      echo "convert --bits 16 --backend $b ($v): $(tm "$D/bin/$v" --quiet --backend "$b" convert "$W/h.wav" -o "$W/c.wav" --bits 16)"
    done
  done
  for v in "${builds[@]}"; do
    echo "master --backend cuda ($v): $(tm "$D/bin/$v" --quiet --backend cuda master "$W/h.wav" -o "$W/m-$v.wav" --report "$W/r.json")"
    breakdown "$W/r.json"
  done
  # Issue 8's own definition of the benchmark: EQ, reverb, 4-band multiband, the verified limiter,
  # loudness targeting and the analysis of the mix and the master (--html), all on cuda.
  echo "master --preset glue-master --html --backend cuda: $(tm "$D/bin/lathe" --quiet --backend cuda master "$W/h.wav" -o "$W/m-full.wav" --preset glue-master --html "$W/h.html" --report "$W/r.json")"
  breakdown "$W/r.json"
  # The meters (pre-limiter tap, trial, pass) on the CPU with the job's threads instead of sharing
  # the device with the stages: where should they run?
  echo "master --backend cuda, LATHE_CUDA_HOLD=loudness: $(LATHE_CUDA_HOLD=loudness tm "$D/bin/lathe" --quiet --backend cuda master "$W/h.wav" -o "$W/m-held.wav" --report "$W/r.json")"
  breakdown "$W/r.json"
  # The buffers the backend copies in ordinary (pageable) memory, as before they were page-locked
  # (2026-11-27, thirteenth session): that memory's own A/B, in one build.
  echo "master --backend cuda, LATHE_CUDA_PAGEABLE=1: $(LATHE_CUDA_PAGEABLE=1 tm "$D/bin/lathe" --quiet --backend cuda master "$W/h.wav" -o "$W/m-pageable.wav" --report "$W/r.json")"
  breakdown "$W/r.json"
  # The trial rendered block by block (its limiter's calls and its meter's chunks going up and
  # down) instead of on the intermediate held on the device (2026-11-27, fourteenth session).
  echo "master --backend cuda, LATHE_CUDA_HOLD=resident-trial: $(LATHE_CUDA_HOLD=resident-trial tm "$D/bin/lathe" --quiet --backend cuda master "$W/h.wav" -o "$W/m-rendered-trial.wav" --report "$W/r.json")"
  breakdown "$W/r.json"
  # One lane: the operations take turns on the device, as under the backend's one lock before the
  # lanes (2026-11-27, fourteenth session) — the lanes' own A/B, in one build, on the default master
  # and on glue-master with its analyses (where the most calls come at once).
  echo "master --backend cuda, LATHE_CUDA_LANES=1: $(LATHE_CUDA_LANES=1 tm "$D/bin/lathe" --quiet --backend cuda master "$W/h.wav" -o "$W/m-one-lane.wav" --report "$W/r.json")"
  breakdown "$W/r.json"
  echo "master --preset glue-master --html --backend cuda, LATHE_CUDA_LANES=1: $(LATHE_CUDA_LANES=1 tm "$D/bin/lathe" --quiet --backend cuda master "$W/h.wav" -o "$W/m-full-one-lane.wav" --preset glue-master --html "$W/h.html" --report "$W/r.json")"
  breakdown "$W/r.json"
done
cmp -s "$W/m-rendered-trial.wav" "$W/m-lathe.wav" && echo "held-trial and rendered-trial masters byte-identical" ||
  echo "held-trial and rendered-trial masters differ"
cmp -s "$W/m-one-lane.wav" "$W/m-lathe.wav" && cmp -s "$W/m-full-one-lane.wav" "$W/m-full.wav" &&
  echo "one-lane and default masters byte-identical" || echo "one-lane and default masters differ"
if [[ ${#builds[@]} == 2 ]]; then
  cmp -s "$W/m-lathe-base.wav" "$W/m-lathe.wav" && echo "masters byte-identical" || echo "masters differ"
fi
cmp -s "$W/m-pageable.wav" "$W/m-lathe.wav" && echo "page-locked and pageable masters byte-identical" ||
  echo "page-locked and pageable masters differ"
echo "master --backend cpu: $(tm "$D/bin/lathe" --quiet --backend cpu master "$W/h.wav" -o "$W/m.wav" --report "$W/r.json")"
breakdown "$W/r.json"
# The limiter stage alone on the hour, at 1-16 threads (its parallel segments: seconds, output hash,
# chunks the merge computed again); another commit's beside it when the bundle has one.
for lt in limiter_threads-base limiter_threads; do
  [[ -x "$D/bin/$lt" ]] && echo "$lt:" && "$D/bin/$lt" "$W/h.wav" 6 1 4 8 16
done
# The master with its intermediate held in memory against one in a temporary file, alternating
# (two rounds each, cuda).
[[ -x "$D/bin/intermediate" ]] && "$D/bin/intermediate" "$W/h.wav" 2 cuda
# glue-master with the analyses of the mix and the master taken while it renders, against reading
# both files after it (what `master --html` did before 2026-11-27), alternating (cuda).
[[ -x "$D/bin/master_analyses" ]] && "$D/bin/master_analyses" "$W/h.wav" 2 glue-master cuda
# The host's floor: the default master with every device operation free, beside a convert and the
# cuda master, alternating (bench/host_floor.cpp): how much of the master's wall time the host alone
# takes on this machine, whatever the GPU does.
[[ -x "$D/bin/host_floor" ]] && "$D/bin/host_floor" "$W/h.wav" "${HOUR_ROUNDS:-2}" default cuda
rm -f "$W"/*.wav
