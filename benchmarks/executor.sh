#!/usr/bin/env bash
# Cost of a task switch (Task.yield between two tasks) and of a timer
# wake-up (a sleep whose deadline has passed) on Riad's event loop inside an
# hvt kernel, against Swift's default executor in an ordinary Swift process
# (-O), both measured in this invocation; prints both and their ratios.
# Also prints the heap high-water mark of the kernel.
#
# Usage: benchmarks/executor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

swift build --product riad >/dev/null
swift build -c release --product riad-hvt >/dev/null
image=$(.build/debug/riad build Tests/Kernels/executor-bench -t hvt 2>/dev/null | tail -n 1)
tender=$(swift build -c release --show-bin-path)/riad-hvt
baseline=$(mktemp -d)/default-executor-bench
swiftc -O -parse-as-library benchmarks/executor/DefaultExecutorBench.swift -o "$baseline"

riad=$("$tender" --mem=8 "$image")
swift_default=$("$baseline")
value() { echo "$1" | sed -n "s/^$2=//p"; }

for key in task-switch-ns timer-wakeup-ns; do
    ours=$(value "$riad" $key)
    theirs=$(value "$swift_default" $key)
    ratio=$(python3 -c "print(f'{$ours / max($theirs, 1):.2f}')")
    echo "$key: riad event loop (hvt) $ours ns, Swift default executor (process) $theirs ns, ratio $ratio"
done
echo "heap high-water of the kernel after the run: $(value "$riad" heap-high-water) bytes"
