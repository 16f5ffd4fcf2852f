#!/usr/bin/env bash
# TCP throughput as iperf3 measures it: Debian's unmodified `iperf3 -c`
# against examples/iperf over a tap device, each way (-R: the kernel sends),
# with the ping round trip and, on hvt, the VM exits per megabyte that
# riad-hvt --stats counted. Riad runs in four ways:
#
#   hvt, hypercalls:  riad-hvt --net-ring=off, one exit per frame (as before
#                     the net ring, and as under a tender without it);
#   hvt, ring:        the shared net ring, frames of one MTU (--net-offload=off);
#   hvt, offload:     the ring with 64 KiB TCP segments and the host's
#                     checksums (the default);
#   unix:             the unix target on the same tap, with offload.
#
# In the same run, the same client against Linux's own iperf3 server:
#
#   veth:  client and server in two network namespaces joined by a veth
#          pair (Linux's TCP both ends, no copy through user space).
#   relay: the server in a namespace behind two tap devices joined by a
#          user-space relay that reads and writes one frame per system call
#          (a small C program built here), as riad-hvt moves the kernel's
#          frames: the tap path without the VM and without RiadNet. Skipped
#          with a note when no C compiler is found.
#
# Ratios are to veth (and to relay where it ran). Needs root (taps,
# namespaces), /dev/kvm and iperf3 (apt-get install iperf3).
# Usage: benchmarks/iperf.sh [SECONDS] [PARALLEL]   (default 5 1)
# MEM=MB sets the kernel's --mem (default 256, its manifest's).
# SCRATCH=DIR builds in DIR instead of .build (swift build --scratch-path).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
parallel=${2:-1}
memory=${MEM:-256}
export PATH=/opt/swift/usr/bin:$PATH

[ "$(id -u)" = 0 ] || { echo "iperf: needs root (taps, network namespaces)" >&2; exit 1; }
[ -w /dev/kvm ] || { echo "iperf: needs /dev/kvm" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "iperf: needs iperf3 (apt-get install iperf3)" >&2; exit 1; }

scratch=()
[ -n "${SCRATCH:-}" ] && scratch=(--scratch-path "$SCRATCH")
swift build "${scratch[@]}" -c release --product riad-hvt >/dev/null
swift build "${scratch[@]}" --product riad >/dev/null
riad=$(swift build "${scratch[@]}" --show-bin-path)/riad
tender=$(swift build "${scratch[@]}" -c release --show-bin-path)/riad-hvt
image=$("$riad" build examples/iperf -t hvt 2>/dev/null | tail -n 1)
unix_image=$("$riad" build examples/iperf -t unix 2>/dev/null | tail -n 1)
commit=$(git rev-parse --short HEAD)
dirty=$(git status --porcelain --untracked-files=no | grep -q . && echo " (with uncommitted changes)" || true)

tap=riadiperf0
work=""
kernel=""
relay=""
server=""
# Linux's iperf3 server of a baseline (`ip netns exec` runs it in place).
stop_server() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    server=""
}
cleanup() {
    [ -n "$kernel" ] && kill "$kernel" 2>/dev/null && wait "$kernel" 2>/dev/null || true
    [ -n "$relay" ] && kill "$relay" 2>/dev/null && wait "$relay" 2>/dev/null || true
    stop_server
    ip link del "$tap" 2>/dev/null || true
    ip link del riadiperf1 2>/dev/null || true
    for namespace in riadiperf-a riadiperf-b riadiperf-s; do ip netns del $namespace 2>/dev/null || true; done
    if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
cleanup
work=$(mktemp -d)

# Gbit/s the receiver measured, from `iperf3 -J` on standard input; fails
# on an error.
gbits() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
if "error" in d:
    sys.exit("iperf: iperf3 failed: " + d["error"])
print("%.3f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

# Both directions from the client command in "$@" to SERVER: "IN OUT",
# where IN is client to server and OUT server to client (-R).
measure() {
    local server=$1
    shift
    local in out
    in=$("$@" iperf3 -c "$server" -t "$seconds" -P "$parallel" -J | gbits)
    out=$("$@" iperf3 -c "$server" -t "$seconds" -P "$parallel" -R -J | gbits)
    echo "$in $out"
}

# The average round trip of 20 pings, 50 ms apart, in ms.
rtt() {
    ping -c 20 -i 0.05 -q "$1" | python3 -c '
import sys, re
# The per-packet times are not in -q output; use avg of min/avg/max/mdev.
for line in sys.stdin:
    m = re.search(r"= ([0-9.]+)/([0-9.]+)/", line)
    if m: print(m.group(2))'
}

# Riad: examples/iperf over a tap, started by the command in "$@" (which
# gets the kernel's arguments after it). Prints "IN OUT RTT EXITS MB".
ip tuntap add dev "$tap" mode tap
ip addr add 10.90.0.1/24 dev "$tap"
ip link set "$tap" up
riad_run() {
    "$@" --ipv4=10.90.0.2/24 >"$work/kernel.log" 2>&1 &
    kernel=$!
    for _ in $(seq 100); do grep -q listening "$work/kernel.log" && break; sleep 0.1; done
    grep -q listening "$work/kernel.log" || { cat "$work/kernel.log"; echo "iperf: the kernel did not start" >&2; exit 1; }
    local latency result
    latency=$(rtt 10.90.0.2)
    result=$(measure 10.90.0.2 env)
    # SIGTERM: riad-hvt prints its --stats and exits.
    kill -TERM "$kernel" 2>/dev/null || true
    wait "$kernel" 2>/dev/null || true
    kernel=""
    python3 - "$work/kernel.log" <<'PY' | { read -r exits megabytes; echo "$result $latency $exits $megabytes"; }
import re, sys
text = open(sys.argv[1]).read()
exits = re.search(r"stats: (\d+) exits", text)
moved = sum(int(b) for b in re.findall(r"\((\d+) bytes\)", text))
print(exits.group(1) if exits else "-", "%.1f" % (moved / 1e6))
PY
}
hvt=("$tender" --stats --mem="$memory" --net:service="$tap")
read -r call_in call_out call_rtt call_exits call_mb <<<"$(riad_run "${hvt[@]}" --net-ring=off "$image")"
read -r ring_in ring_out ring_rtt ring_exits ring_mb <<<"$(riad_run "${hvt[@]}" --net-offload=off "$image")"
read -r riad_in riad_out riad_rtt riad_exits riad_mb <<<"$(riad_run "${hvt[@]}" "$image")"
read -r unix_in unix_out unix_rtt _ _ <<<"$(riad_run "$unix_image" --net:service="$tap" --)"

# Linux over veth: an iperf3 server in one namespace, the client in another.
ip netns add riadiperf-a
ip netns add riadiperf-b
ip link add riadiperf-va netns riadiperf-a type veth peer name riadiperf-vb netns riadiperf-b
ip -n riadiperf-a addr add 10.90.1.1/24 dev riadiperf-va
ip -n riadiperf-b addr add 10.90.1.2/24 dev riadiperf-vb
for namespace in riadiperf-a riadiperf-b; do ip -n $namespace link set lo up; done
ip -n riadiperf-a link set riadiperf-va up
ip -n riadiperf-b link set riadiperf-vb up
ip netns exec riadiperf-b iperf3 -s -B 10.90.1.2 >/dev/null 2>&1 &
server=$!
sleep 0.5
result=$(measure 10.90.1.2 ip netns exec riadiperf-a)
read -r veth_in veth_out <<<"$result"
stop_server

# Linux behind a user-space tap relay: host -- riadiperf1 ~ relay ~
# riadiperf2 (moved into the namespace) -- iperf3 server.
relay_in=""
relay_out=""
compiler=$(command -v cc || command -v clang || true)
if [ -n "$compiler" ]; then
    cat >"$work/relay.c" <<'EOF'
/* Joins two new tap devices: every frame read from one is written to the
   other, one read(2) and one write(2) per frame, as a tender does. */
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int open_tap(const char *name) {
    struct ifreq request;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    memset(&request, 0, sizeof request);
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &request) < 0) {
        perror(name);
        _exit(1);
    }
    return fd;
}

int main(int argc, char **argv) {
    static char frame[65536];
    struct pollfd taps[2];
    if (argc != 3) return 2;
    taps[0].fd = open_tap(argv[1]);
    taps[1].fd = open_tap(argv[2]);
    taps[0].events = taps[1].events = POLLIN;
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        if (poll(taps, 2, -1) < 0) return 1;
        for (int side = 0; side < 2; side++) {
            /* At most 64 frames a side per wake-up: neither starves the other. */
            for (int count = 0; count < 64; count++) {
                ssize_t length = read(taps[side].fd, frame, sizeof frame);
                if (length <= 0) break;
                if (write(taps[1 - side].fd, frame, (size_t)length) < 0) { /* dropped, as on a wire */ }
            }
        }
    }
}
EOF
    "$compiler" -O2 -o "$work/relay" "$work/relay.c"
    "$work/relay" riadiperf1 riadiperf2 >"$work/relay.log" 2>&1 &
    relay=$!
    for _ in $(seq 50); do grep -q ready "$work/relay.log" && break; sleep 0.1; done
    ip netns add riadiperf-s
    ip link set riadiperf2 netns riadiperf-s
    ip addr add 10.90.2.1/24 dev riadiperf1
    ip link set riadiperf1 up
    ip -n riadiperf-s addr add 10.90.2.2/24 dev riadiperf2
    ip -n riadiperf-s link set riadiperf2 up
    ip -n riadiperf-s link set lo up
    ip netns exec riadiperf-s iperf3 -s -B 10.90.2.2 >/dev/null 2>&1 &
    server=$!
    sleep 0.5
    result=$(measure 10.90.2.2 env)
    read -r relay_in relay_out <<<"$result"
    stop_server
fi

python3 - "$commit$dirty" "$seconds" "$parallel" "$memory" "$veth_in" "$veth_out" "$relay_in" "$relay_out" \
    "hvt, hypercalls:$call_in:$call_out:$call_rtt:$call_exits:$call_mb" \
    "hvt, ring:$ring_in:$ring_out:$ring_rtt:$ring_exits:$ring_mb" \
    "hvt, ring + offload:$riad_in:$riad_out:$riad_rtt:$riad_exits:$riad_mb" \
    "unix, offload:$unix_in:$unix_out:$unix_rtt:-:-" <<'PY'
import sys
commit, seconds, parallel, memory = sys.argv[1:5]
vi, vo = float(sys.argv[5]), float(sys.argv[6])
relay = [float(x) for x in sys.argv[7:9] if x]
print(f"commit {commit}; iperf3 -c, {seconds} s, -P {parallel}; Riad kernel --mem={memory}")
print(f"baselines: Linux over veth {vi:.3f} / {vo:.3f} Gbit/s (in / out)"
      + (f"; Linux behind a tap relay {relay[0]:.3f} / {relay[1]:.3f}" if relay else ""))
for row in sys.argv[9:]:
    name, i, o, rtt, exits, mb = row.split(":")
    i, o = float(i), float(o)
    line = (f"{name}: host -> kernel {i:.3f} Gbit/s (veth ratio {i / vi:.3f}), "
            f"kernel -> host {o:.3f} (ratio {o / vo:.3f}); ping {float(rtt):.3f} ms")
    if relay:
        line += f"; relay ratios {i / relay[0]:.3f} / {o / relay[1]:.3f}"
    if exits != "-" and float(mb) > 0:
        line += f"; {int(exits) / float(mb):.1f} exits per MB ({exits} exits, {mb} MB)"
    print(line)
if not relay:
    print("(no C compiler: the tap relay baseline was skipped)")
print("aims: at least 5 Gbit/s each way on hvt (floor 2), 10 on unix over a tap; ping no slower than hypercalls")
PY
