#!/usr/bin/env bash
# Size of hello.hvt and its boot-to-exit time under riad-hvt: the median of
# RUNS whole-process runs (start of riad-hvt to its exit) of
# `hello --count=1 --sleep-ms=0`. Where solo5-hvt is on PATH, the same
# kernel is run under it in the same invocation and the ratio printed.
# (Solo5 is not packaged by Debian; build its tender from a Solo5 checkout
# with ./configure.sh && make, needs libseccomp-dev, and put
# tenders/hvt on PATH.) riad-hvt is the release build, a static executable.
#
# Usage: benchmarks/hvt-boot.sh [RUNS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
export PATH=/opt/swift/usr/bin:$PATH

swift build -c release --product riad-hvt >/dev/null
swift build --product riad >/dev/null
image=$(.build/debug/riad build examples/hello -t hvt 2>/dev/null | tail -n 1)
tender=$(swift build -c release --show-bin-path)/riad-hvt

echo "hello.hvt: $(stat -c %s "$image") bytes (aim: under 65536)"

python3 - "$runs" "$tender" "$image" <<'PY'
import shutil, statistics, subprocess, sys, time
runs, tender, image = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def median_ms(command):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            sys.exit(f"{command[0]} failed: {done.stderr.decode()}")
    return statistics.median(times)

args = ["--mem=2", image, "--count=1", "--sleep-ms=0"]
ours = median_ms([tender] + args)
print(f"riad-hvt boot-to-exit: median {ours:.2f} ms of {runs} runs (aim: under 5 ms)")
solo5 = shutil.which("solo5-hvt")
if solo5:
    theirs = median_ms([solo5] + args)
    print(f"solo5-hvt boot-to-exit: median {theirs:.2f} ms of {runs} runs")
    print(f"ratio riad-hvt / solo5-hvt: {ours / theirs:.2f}")
else:
    print("solo5-hvt is not on PATH: no baseline ratio this run")
PY
