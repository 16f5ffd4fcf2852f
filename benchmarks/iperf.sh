#!/usr/bin/env bash
# TCP throughput as iperf3 measures it: Debian's unmodified `iperf3 -c`
# against examples/iperf on hvt over a tap device, each way (-R: the kernel
# sends), and in the same run the same client against Linux's own iperf3
# server on two paths:
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
# MEM=MB sets the kernel's --mem (default 64, its manifest's).
# SCRATCH=DIR builds in DIR instead of .build (swift build --scratch-path).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
parallel=${2:-1}
memory=${MEM:-64}
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

# Riad: examples/iperf on hvt over a tap.
ip tuntap add dev "$tap" mode tap
ip addr add 10.90.0.1/24 dev "$tap"
ip link set "$tap" up
"$tender" --mem="$memory" --net:service="$tap" "$image" --ipv4=10.90.0.2/24 >"$work/kernel.log" 2>&1 &
kernel=$!
for _ in $(seq 100); do grep -q listening "$work/kernel.log" && break; sleep 0.1; done
grep -q listening "$work/kernel.log" || { cat "$work/kernel.log"; echo "iperf: the kernel did not start" >&2; exit 1; }
result=$(measure 10.90.0.2 env)
read -r riad_in riad_out <<<"$result"
kill "$kernel" 2>/dev/null || true
wait "$kernel" 2>/dev/null || true
kernel=""

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

python3 - "$commit$dirty" "$seconds" "$parallel" "$memory" "$riad_in" "$riad_out" "$veth_in" "$veth_out" \
    "$relay_in" "$relay_out" <<'PY'
import sys
commit, seconds, parallel, memory = sys.argv[1:5]
ri, ro, vi, vo = map(float, sys.argv[5:9])
relay = [float(x) for x in sys.argv[9:11] if x]
print(f"commit {commit}; iperf3 -c, {seconds} s, -P {parallel}; Riad kernel --mem={memory}")
for name, riad, veth, index in (("host -> kernel", ri, vi, 0), ("kernel -> host (-R)", ro, vo, 1)):
    line = f"{name}: Riad on hvt {riad:.3f} Gbit/s; Linux over veth {veth:.3f} (ratio {riad / veth:.3f})"
    if relay:
        line += f"; Linux behind a tap relay {relay[index]:.3f} (ratio {riad / relay[index]:.3f})"
    print(line)
if not relay:
    print("(no C compiler: the tap relay baseline was skipped)")
PY
