#!/usr/bin/env bash
# Build times and image sizes. For hello and the largest example: the clean
# build time (kernel libraries and application, from nothing) and the
# no-change rebuild time; then the image size of every example per target.
# No baseline exists for these: the figures are for tracking over time.
#
# Usage: benchmarks/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
swift build --product riad >/dev/null
riad=.build/debug/riad

seconds() { python3 -c 'import sys,time; print(f"{time.time():.3f}")'; }
measure() {  # measure TARGET DIR: clean build, then a no-change rebuild
    rm -rf ".build/riad-kernel/$1" "$2/_build/$1"
    local start=$(seconds)
    "$riad" build "$2" -t "$1" >/dev/null 2>&1
    local middle=$(seconds)
    "$riad" build "$2" -t "$1" >/dev/null 2>&1
    local end=$(seconds)
    python3 -c "print(f'$2 ($1): clean build {$middle - $start:.1f} s, no-change rebuild {$end - $middle:.2f} s')"
}

largest=$(for d in examples/*/; do echo "$(cat "$d"*.swift | wc -c) ${d%/}"; done | sort -n | tail -1 | cut -d' ' -f2)
for target in unix hvt; do
    measure "$target" examples/hello
    [ "$largest" = examples/hello ] || measure "$target" "$largest"
done
for d in examples/*/; do
    for target in unix hvt; do
        image=$("$riad" build "${d%/}" -t "$target" 2>/dev/null | tail -n 1)
        echo "${d%/} ($target): $(stat -c %s "$image") bytes"
    done
done
