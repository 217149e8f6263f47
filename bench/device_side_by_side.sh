#!/usr/bin/env bash
# GPU-machine timings (scripts/device-bundle copies this into the bundle as extra.sh): the CUDA and
# CPU backends side by side in one invocation on the same file, outputs compared.
# Usage (there): extra.sh BUNDLE_DIR WORK_DIR
set -uo pipefail
D="$1"; W="$2"
L="$D/bin/lathe"
MIX="$W/mix-10min.wav"
"$L" --quiet demo-mix -o "$MIX" --duration "${LATHE_BENCH_SECONDS:-600}"
device_timing() { # the report's device_timing (CUDA events), one line
  python3 - "$1" <<'PY' 2>/dev/null || true
import json, sys
d = json.load(open(sys.argv[1])).get("device_timing")
if d:
    print("  device: H2D %.3f s (%.0f MB), kernels %.3f s, D2H %.3f s (%.0f MB), buffers at most %.0f MB, "
          "page-locked at most %.0f MB" % (
        d["host_to_device_seconds"], d["host_to_device_bytes"] / 1e6, d["kernel_seconds"],
        d["device_to_host_seconds"], d["device_to_host_bytes"] / 1e6, d.get("peak_buffer_bytes", 0) / 1e6,
        d.get("peak_pinned_bytes", 0) / 1e6))
PY
}
master_breakdown() { # a master report's stages, decode/encode and the targeting's steps, one line each
  python3 - "$1" <<'PY' 2>/dev/null || true
import json, sys
d = json.load(open(sys.argv[1]))
print("  stages", [(s["name"], round(s["seconds"], 3)) for s in d["stages"]],
      "decode", round(d["decode_seconds"], 3), "encode", round(d["encode_seconds"], 3),
      "output end", round(d.get("output_seconds", 0), 3), "(tap %.3f)" % d.get("tap_seconds", 0))
t = d.get("targeting")
if t and "trial_s" in t:
    print("  targeting: pre-limiter render %.3f s, its measurement %.3f s, trial %.3f s, passes %s" % (
        t["pre_limiter_render_s"], t["pre_limiter_measure_s"], t["trial_s"],
        [round(p["seconds"], 3) for p in t["passes"]]))
PY
}
t() { # label, command...
  local label="$1"; shift
  local s e
  s=$(date +%s%N); "$@" > "$W/cmd.log" 2>&1; local rc=$?; e=$(date +%s%N)
  local ms=$(( (e - s) / 1000000 ))
  printf '%-58s %4d.%03d s  (exit %d)\n' "$label" $((ms / 1000)) $((ms % 1000)) "$rc"
  [[ $rc == 0 ]] || tail -5 "$W/cmd.log"
}
echo "== timings, 10-minute 48 kHz/24-bit stereo mix (600 s of audio)"
for round in 1 2; do
  for b in cuda cpu; do
    t "convert --bits 16 --backend $b (round $round)" "$L" --quiet --backend "$b" convert "$MIX" -o "$W/conv-$b.wav" --bits 16
  done
done
cmp "$W/conv-cuda.wav" "$W/conv-cpu.wav" && echo "convert: cuda and cpu outputs are byte-identical"
for b in cuda cpu; do
  t "master (default chain) --backend $b" "$L" --quiet --backend "$b" master "$MIX" -o "$W/master-$b.wav" --report "$W/master-$b.json"
  grep -o '"backend": "[a-z]*"\|"realtime_factor": [0-9.]*' "$W/master-$b.json" | tr '\n' ' '; echo
  master_breakdown "$W/master-$b.json"
  device_timing "$W/master-$b.json"
done
# The targeting's trial with its limiter pass on the host (LATHE_CUDA_HOLD), against the plain
# cuda master whose trial runs it on the device; trial and drives compared.
LATHE_CUDA_HOLD=limiter-pass t "master (default chain) --backend cuda, limiter pass on the host" \
  "$L" --quiet --backend cuda master "$MIX" -o "$W/master-pass.wav" --report "$W/master-pass.json"
master_breakdown "$W/master-pass.json"
device_timing "$W/master-pass.json"
python3 - "$W/master-cuda.json" "$W/master-pass.json" <<'PY' 2>/dev/null || true
import json, sys
a, b = (json.load(open(f))["targeting"] for f in sys.argv[1:])
print("  trial LUFS %.9f (device pass) vs %.9f (host pass); drives %s vs %s" % (
    a["trial"]["integrated_lufs"], b["trial"]["integrated_lufs"],
    [p["input_gain_db"] for p in a["passes"]], [p["input_gain_db"] for p in b["passes"]]))
PY
for b in cuda cpu; do
  t "master --preset glue-room (room reverb) --backend $b" "$L" --quiet --backend "$b" master "$MIX" -o "$W/room-$b.wav" --preset glue-room --report "$W/room-$b.json"
  grep -o '"realtime_factor": [0-9.]*' "$W/room-$b.json"
done
for b in cuda cpu; do
  t "compare --speakers all (9 models) --backend $b" "$L" --quiet --backend "$b" compare "$MIX" --speakers all --json
  grep -o '"backend": *"[a-z]*"' "$W/cmd.log" | head -1
done
# Loudness analysis (K-weighting, ×4/×16 true peak, spectrum and the rest of `analyze`). Open
# question from 2026-11-26: analyze was 1.3-1.4x slower on cuda than on 16 cores although its
# device time was 0.07 s; the CUDA start-up (probe, context) and the job's own time
# (analysis_seconds, without the process start) tell part of why.
t "info --devices (CUDA start-up)" "$L" info --devices
for b in cuda cpu; do
  t "analyze --backend $b" "$L" --quiet --backend "$b" analyze "$MIX" --json
  python3 -c "import json,sys; print('   analysis_seconds', json.load(open(sys.argv[1]))['analysis_seconds'])" "$W/cmd.log" 2>/dev/null
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); l=d['loudness']; print('  ', d['backend'], 'I', l['integrated_lufs'], 'LRA', l['lra_lu'], 'TP', l['true_peak_dbtp'])" "$W/cmd.log" 2>/dev/null
  device_timing "$W/cmd.log"
done
# The spectrum and spectrogram on the host (LATHE_CUDA_HOLD), the rest of the analysis on the device.
LATHE_CUDA_HOLD=spectrum t "analyze --backend cuda, spectrum on the host" "$L" --quiet --backend cuda analyze "$MIX" --json
python3 -c "import json,sys; print('   analysis_seconds', json.load(open(sys.argv[1]))['analysis_seconds'])" "$W/cmd.log" 2>/dev/null
device_timing "$W/cmd.log"
# The limiter alone at 1–16 threads, and the thread pool's cost per call (6ca87db took the lock out
# of it: the limiter on 16 cores had been 2-3x slower than on 2 vCPUs).
if [[ -x "$D/bin/limiter_threads" ]]; then
  "$D/bin/limiter_threads" "$MIX" 6 1 2 4 8 16
fi
if [[ -x "$D/bin/pool_overhead" ]]; then
  "$D/bin/pool_overhead" 1 2 4 8 16
fi
# Issue 8's benchmark file: one hour, 48 kHz/24-bit stereo (LATHE_BENCH_HOUR=1).
if [[ "${LATHE_BENCH_HOUR:-0}" == 1 ]]; then
  HOUR="$W/mix-60min.wav"
  "$L" --quiet demo-mix -o "$HOUR" --duration 3600
  echo "== one hour, 48 kHz/24-bit stereo (3600 s of audio)"
  t "convert --bits 16 --backend cuda" "$L" --quiet --backend cuda convert "$HOUR" -o "$W/h-conv.wav" --bits 16
  for b in cuda cpu hold; do
    if [[ $b == hold ]]; then # the cuda master with the trial's limiter pass on the host
      LATHE_CUDA_HOLD=limiter-pass t "master (default chain) --backend cuda, limiter pass on the host" \
        "$L" --quiet --backend cuda master "$HOUR" -o "$W/h-master-$b.wav" --report "$W/h-master-$b.json"
    else
      t "master (default chain) --backend $b" "$L" --quiet --backend "$b" master "$HOUR" -o "$W/h-master-$b.wav" \
        --report "$W/h-master-$b.json"
    fi
    master_breakdown "$W/h-master-$b.json"
    device_timing "$W/h-master-$b.json"
    rm -f "$W/h-master-$b.wav"
  done
  LATHE_CUDA_HOLD=spectrum t "analyze --backend cuda, spectrum on the host" "$L" --quiet --backend cuda analyze "$HOUR" --json
  device_timing "$W/cmd.log"
  for b in cuda cpu; do
    t "analyze --backend $b" "$L" --quiet --backend "$b" analyze "$HOUR" --json
    device_timing "$W/cmd.log"
  done
fi
rm -f "$W"/*.wav
