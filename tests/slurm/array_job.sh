#!/usr/bin/env bash
# Integration test of Lathe's scale-out on Slurm (issue 11): starts a single-node cluster on this
# machine (munged, slurmctld and slurmd, configuration, state and spool in a temporary directory),
# submits scripts/slurm/lathe-array.sbatch as a 4-task array job over a generated 12-file
# catalogue, merges the shards' manifests, and checks that every output exists exactly once and
# equals a single-process `lathe batch` run bit for bit. The daemons are stopped by pid afterwards.
#
#   tests/slurm/array_job.sh LATHE_BINARY REPO_ROOT
#
# Exit 0: passed; 1: failed; 77: skipped (ctest SKIP_RETURN_CODE) with the reason on stdout —
# not root, Slurm or munge not installed, or the cluster did not come up.
set -uo pipefail

lathe=$(realpath "$1")
root=$(realpath "$2")
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[[ $EUID -eq 0 ]] || skip "a single-node Slurm cluster needs root (slurmd runs jobs as their user)"
for b in munged slurmctld slurmd sbatch sinfo; do
    command -v "$b" >/dev/null || skip "$b not installed (scripts/deps installs slurm-wlm and munge)"
done

tmp=$(mktemp -d /tmp/lathe-slurm.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
    for f in "$tmp"/slurmd.pid "$tmp"/slurmctld.pid "$tmp"/munged.pid; do
        [[ -s $f ]] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 0.5
    for f in "$tmp"/slurmd.pid "$tmp"/slurmctld.pid "$tmp"/munged.pid; do
        [[ -s $f ]] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
logs() {
    for f in "$tmp"/*.log; do
        echo "--- $f"
        tail -n 15 "$f"
    done
}

# munge: its own key and socket (the system's, if any, is left alone).
mkdir -p "$tmp/munge"
chmod 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged --force --socket="$tmp/munge/munge.socket" --key-file="$tmp/munge/munge.key" \
    --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge/munge.seed" ||
    skip "munged did not start: $(tail -n 3 "$tmp/munged.log" 2>/dev/null)"

host=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
# Ports away from the defaults (6817/6818), so a system cluster on the machine is not disturbed.
port=$((20000 + RANDOM % 20000))
mkdir -p "$tmp/state" "$tmp/spool"
cat >"$tmp/slurm.conf" <<EOF
ClusterName=lathetest
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MaxArraySize=1000
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=lathe Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -c || skip "slurmctld did not start: $(logs)"
slurmd || skip "slurmd did not start: $(logs)"
up=0
for _ in $(seq 60); do
    state=$(sinfo -h -o %T 2>/dev/null | head -n 1)
    if [[ $state == idle* || $state == mixed* ]]; then
        up=1
        break
    fi
    sleep 0.5
done
((up)) || skip "the single-node cluster did not come up (node state '${state:-none}'): $(logs)"
echo "cluster up: node $host, $cpus CPUs, controller port $port"

# 12 short programmes (Lathe's own demo-mix generator, different seeds).
mkdir -p "$tmp/in"
for k in $(seq -w 1 12); do
    "$lathe" -q demo-mix -o "$tmp/in/track$k.wav" --duration 3 --seed "$((10#$k))" || fail "demo-mix"
done

# The array job: 4 shards, written into one output directory.
mkdir -p "$tmp/logs" "$tmp/out"
if ! sbatch --wait --array=0-3 --cpus-per-task=1 --output="$tmp/logs/%a.log" --export=ALL,LATHE="$lathe" \
    "$root/scripts/slurm/lathe-array.sbatch" "$tmp/in" -o "$tmp/out"; then
    for f in "$tmp"/logs/*.log; do echo "--- $f"; cat "$f"; done
    logs
    fail "the array job failed"
fi
"$lathe" batch --merge "$tmp/out" || fail "merge"

# A single process over the same catalogue.
"$lathe" -q batch "$tmp/in" -o "$tmp/single" || fail "single-process run"

# Every output exactly once, from exactly one shard, equal to the single run's.
status=0
manifests=("$tmp"/out/manifest.shard-*-of-4.jsonl)
[[ ${#manifests[@]} -eq 4 ]] || { echo "expected 4 shard manifests, found ${#manifests[@]}"; status=1; }
lines=$(cat "${manifests[@]}" | wc -l)
[[ $lines -eq 12 ]] || { echo "expected 12 manifest lines over the shards, found $lines"; status=1; }
dupes=$(cat "${manifests[@]}" | grep -o '"relative":"[^"]*"' | sort | uniq -d)
[[ -z $dupes ]] || { echo "processed by more than one shard: $dupes"; status=1; }
outputs=$(find "$tmp/out" -name '*.wav' | wc -l)
[[ $outputs -eq 12 ]] || { echo "expected 12 outputs, found $outputs"; status=1; }
for k in $(seq -w 1 12); do
    cmp -s "$tmp/out/track$k.wav" "$tmp/single/track$k.wav" || {
        echo "track$k.wav differs from the single-process run (or is missing)"
        status=1
    }
done
rows=$(($(wc -l <"$tmp/out/summary.csv") - 1))
[[ $rows -eq 12 ]] || { echo "summary.csv has $rows rows, expected 12"; status=1; }
hidden=$(find "$tmp/out" -name '.*' | wc -l)
[[ $hidden -eq 0 ]] || { echo "temporary files left in the output: $hidden"; status=1; }
((status == 0)) || fail "see above"
echo "PASS: 12 files over 4 Slurm array tasks = one process, bit for bit; summary of 12 rows"
