#!/usr/bin/env bash
# GPU-machine timings (scripts/device-bundle copies this into the bundle as extra.sh): the CUDA and
# CPU backends side by side in one invocation on the same file, outputs compared.
# Usage (there): extra.sh BUNDLE_DIR WORK_DIR
set -uo pipefail
D="$1"; W="$2"
L="$D/bin/lathe"
MIX="$W/mix-10min.wav"
"$L" --quiet demo-mix -o "$MIX" --duration "${LATHE_BENCH_SECONDS:-600}"
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
  grep -o '"backend": "[a-z]*"\|"realtime_factor": [0-9.]*\|"decode_seconds": [0-9.e-]*\|"encode_seconds": [0-9.e-]*' \
    "$W/master-$b.json" | tr '\n' ' '; echo
done
for b in cuda cpu; do
  t "master --preset glue-room (room reverb) --backend $b" "$L" --quiet --backend "$b" master "$MIX" -o "$W/room-$b.wav" --preset glue-room --report "$W/room-$b.json"
  grep -o '"realtime_factor": [0-9.]*' "$W/room-$b.json"
done
for b in cuda cpu; do
  t "compare --speakers all (9 models) --backend $b" "$L" --quiet --backend "$b" compare "$MIX" --speakers all --json
  grep -o '"backend": *"[a-z]*"' "$W/cmd.log" | head -1
done
# Loudness on the GPU is off until the parity suite passes there; the developer switch turns it
# on for this timing, and the figures of both backends are printed side by side.
for b in cuda cpu; do
  t "analyze --backend $b (GPU loudness: experimental switch)" env LATHE_EXPERIMENTAL_CUDA_LOUDNESS=1 \
    "$L" --quiet --backend "$b" analyze "$MIX" --json
  grep -o '"integrated_lufs": [-0-9.e]*\|"lra_lu": [-0-9.e]*\|"backend": "[^"]*"' "$W/cmd.log" | head -4 | tr '\n' ' '; echo
done
rm -f "$W"/*.wav
