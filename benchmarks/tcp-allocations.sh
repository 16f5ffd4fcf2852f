#!/usr/bin/env bash
# Heap allocations per TCP segment on RiadNet's established fast path: the
# echo example as a unix kernel over a tap (the direct stack, the same
# Embedded Swift code as on hvt), with an LD_PRELOAD counter of malloc &
# co (benchmarks/support/malloc_count.c). After a warm-up on the
# connection, SECONDS of bulk echo are counted: allocations divided by the
# frames the tap carried. The aim is 0.
#
# Needs root (tap) and python3. Usage: benchmarks/tcp-allocations.sh [MEGABYTES]  (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-100}
export PATH=/opt/swift/usr/bin:$PATH
[ "$(id -u)" = 0 ] || { echo "tcp-allocations: needs root (tap)" >&2; exit 1; }

swift build --product riad >/dev/null
kernel=$(.build/debug/riad build examples/echo 2>/dev/null | tail -n 1)
counter=$(mktemp --suffix=.so)
clang -O2 -shared -fPIC -o "$counter" benchmarks/support/malloc_count.c -ldl

tap=riadalloc0
log=$(mktemp)
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
    ip link del "$tap" 2>/dev/null || true
    rm -f "$counter" "$log"
}
trap cleanup EXIT
ip link del "$tap" 2>/dev/null || true
ip tuntap add dev "$tap" mode tap
ip addr add 10.86.0.1/24 dev "$tap"
ip link set "$tap" up
LD_PRELOAD="$counter" "$kernel" --net:service="$tap" -- --ipv4=10.86.0.2/24 >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.1; done

python3 - "$pid" "$tap" "$megabytes" "$log" <<'PY'
import os, re, signal, socket, sys, threading, time
pid, tap, megabytes, log = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

def count():
    before = open(log).read().count("malloc-count")
    os.kill(pid, signal.SIGUSR1)
    while open(log).read().count("malloc-count") == before:
        time.sleep(0.01)
    return int(re.findall(r"malloc-count: (\d+)", open(log).read())[-1])

def frames():
    base = f"/sys/class/net/{tap}/statistics/"
    return sum(int(open(base + name).read()) for name in ("rx_packets", "tx_packets"))

s = socket.create_connection(("10.86.0.2", 7))
chunk = bytes(1 << 16)
def echo(total):
    def drain():
        left = total
        while left > 0:
            left -= len(s.recv(1 << 20))
    reader = threading.Thread(target=drain)
    reader.start()
    sent = 0
    while sent < total:
        s.sendall(chunk)
        sent += len(chunk)
    reader.join()

echo(4 << 20)  # warm-up: the connection's buffers exist, caches are full
allocations, carried, start = count(), frames(), time.perf_counter()
echo(megabytes << 20)
allocations, carried = count() - allocations, frames() - carried
elapsed = time.perf_counter() - start
print(f"{megabytes} MB echoed each way in {elapsed:.2f} s over {carried} frames: "
      f"{allocations} allocations, {allocations / carried:.4f} per frame (aim: 0)")
PY
