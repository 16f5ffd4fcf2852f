#!/usr/bin/env bash
# TCP bulk throughput of RiadNet in an hvt kernel over a tap device, each
# way, against Linux's own TCP between two network namespaces over a veth
# pair, measured in the same run.
#
#   Riad:  benchmarks/tcpperf (discard on 5001, source on 5002) under the
#          release riad-hvt; the host side is a small Python client that
#          sends or receives for SECONDS with 1 MiB socket calls.
#   Linux: iperf3 (Debian) client and server in two namespaces; and the
#          same Python client against a Python server there, so that the
#          ratio can also be read tool for tool.
#
# Needs root (tap, namespaces), /dev/kvm, iperf3 and python3.
# Usage: benchmarks/tcp-throughput.sh [SECONDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
export PATH=/opt/swift/usr/bin:$PATH

[ "$(id -u)" = 0 ] || { echo "tcp-throughput: needs root (tap, network namespaces)" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "tcp-throughput: needs iperf3 (apt-get install iperf3)" >&2; exit 1; }

swift build -c release --product riad-hvt >/dev/null
swift build --product riad >/dev/null
image=$(.build/debug/riad build benchmarks/tcpperf -t hvt 2>/dev/null | tail -n 1)
tender=$(swift build -c release --show-bin-path)/riad-hvt

tap=riadbench0
cleanup() {
    [ -n "${kernel:-}" ] && kill "$kernel" 2>/dev/null || true
    ip link del "$tap" 2>/dev/null || true
    ip netns del riadbench-a 2>/dev/null || true
    ip netns del riadbench-b 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip tuntap add dev "$tap" mode tap
ip addr add 10.84.0.1/24 dev "$tap"
ip link set "$tap" up
log=$(mktemp)
"$tender" --mem=256 --net:service="$tap" "$image" --ipv4=10.84.0.2/24 >"$log" 2>&1 &
kernel=$!
for _ in $(seq 100); do grep -q ready "$log" && break; sleep 0.1; done
grep -q ready "$log" || { cat "$log"; echo "tcp-throughput: the kernel did not start" >&2; exit 1; }

client=$(mktemp --suffix=.py)
cat >"$client" <<'PY'
import socket, sys, time
host, port, direction, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.create_connection((host, port))
chunk = bytearray(1 << 20)
view = memoryview(chunk)
total = 0
start = time.perf_counter()
end = start + seconds
while time.perf_counter() < end:
    if direction == "send":
        s.sendall(chunk)
        total += len(chunk)
    else:
        n = s.recv_into(view)
        if n == 0:
            break
        total += n
elapsed = time.perf_counter() - start
s.close()
print(f"{total * 8 / elapsed / 1e9:.3f}")
PY
server=$(mktemp --suffix=.py)
cat >"$server" <<'PY'
import socket, sys, threading
def serve(port, handler):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()
def discard(conn):
    buffer = bytearray(1 << 20)
    while conn.recv_into(buffer):
        pass
def source(conn):
    chunk = bytes(1 << 20)
    try:
        while True:
            conn.sendall(chunk)
    except OSError:
        pass
threading.Thread(target=serve, args=(5001, discard), daemon=True).start()
serve(5002, source)
PY

riad_in=$(python3 "$client" 10.84.0.2 5001 send "$seconds")
riad_out=$(python3 "$client" 10.84.0.2 5002 receive "$seconds")

# Linux to Linux: two namespaces joined by a veth pair.
ip netns add riadbench-a
ip netns add riadbench-b
ip link add riadbench-va netns riadbench-a type veth peer name riadbench-vb netns riadbench-b
ip -n riadbench-a addr add 10.85.0.1/24 dev riadbench-va
ip -n riadbench-b addr add 10.85.0.2/24 dev riadbench-vb
ip -n riadbench-a link set riadbench-va up
ip -n riadbench-b link set riadbench-vb up
ip -n riadbench-a link set lo up
ip -n riadbench-b link set lo up
ip netns exec riadbench-b iperf3 -s -D -1 >/dev/null
sleep 0.5
iperf_in=$(ip netns exec riadbench-a iperf3 -c 10.85.0.2 -t "$seconds" -J |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))')
ip netns exec riadbench-b iperf3 -s -D -1 >/dev/null
sleep 0.5
iperf_out=$(ip netns exec riadbench-a iperf3 -c 10.85.0.2 -R -t "$seconds" -J |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))')
ip netns exec riadbench-b python3 "$server" &
pyserver=$!
sleep 0.5
linux_in=$(ip netns exec riadbench-a python3 "$client" 10.85.0.2 5001 send "$seconds")
linux_out=$(ip netns exec riadbench-a python3 "$client" 10.85.0.2 5002 receive "$seconds")
kill $pyserver 2>/dev/null || true

python3 - "$riad_in" "$riad_out" "$iperf_in" "$iperf_out" "$linux_in" "$linux_out" \
    "$(git rev-parse --short HEAD)" "$seconds" <<'PY'
import sys
ri, ro, ii, io, li, lo = map(float, sys.argv[1:7])
commit, seconds = sys.argv[7:9]
print(f"commit {commit}; {seconds} s each way")
print(f"host -> kernel: Riad on hvt {ri:.3f} Gbit/s; Linux veth iperf3 {ii:.3f} (ratio {ri/ii:.3f}); "
      f"Linux veth, same client {li:.3f} (ratio {ri/li:.3f})")
print(f"kernel -> host: Riad on hvt {ro:.3f} Gbit/s; Linux veth iperf3 {io:.3f} (ratio {ro/io:.3f}); "
      f"Linux veth, same client {lo:.3f} (ratio {ro/lo:.3f})")
print("aim: at least 2 Gbit/s each way on hvt")
PY
rm -f "$client" "$server" "$log"
