#!/usr/bin/env bash
# HTTP requests per second of the website example (examples/website, RiadHTTP
# over RiadNet) in an hvt kernel over a tap device, against nginx serving the
# same file from a network namespace over a veth pair, measured in the same
# run; the cost of metrics (off, --metrics=prometheus, an Influx sink that
# is down, a real InfluxDB); the image's size; the smallest --mem that serves.
#
#   Load:  wrk (Debian) on the host, CONNECTIONS connections over 2 threads
#          for SECONDS, GET /index.html (283 bytes) on kept-alive
#          connections; each configuration RUNS times, interleaved, median
#          printed (after a 1 s warm-up each time).
#   Riad:  website.hvt under the release riad-hvt, --mem=16 (its manifest's),
#          with its net ring and offload (the default), and with hypercalls
#          only (--net-ring=off: one VM exit per frame, as before the ring),
#          each with the VM exits per request riad-hvt --stats counted.
#   nginx: 1 worker process, access log off, keepalive_requests 1000 (as
#          RiadHTTP's maxRequestsPerConnection), htdocs/ as its root.
#   Metrics: off (the default), --metrics=prometheus (sources on, /metrics
#          routed; nothing scrapes it during the run), influx-http to a
#          closed port (the reporter encodes a batch every second and
#          retries with backoff), influx-http to a real influxd every second
#          (if Debian's influxdb is installed). Cost = (off - on) / off.
#   Memory: --mem=2,4,6,... until the kernel starts, answers a GET with the
#          file's bytes, takes a 2 s wrk burst without errors and answers
#          again: with 1 connection, and with CONNECTIONS.
#
# Needs root (tap, namespaces), /dev/kvm, wrk, nginx, curl; influxd optional.
# Usage: benchmarks/http.sh [SECONDS] [RUNS] [CONNECTIONS]   (default 5 3 16)
# SCRATCH=DIR builds in DIR instead of .build (swift build --scratch-path).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
runs=${2:-3}
connections=${3:-16}
export PATH=/opt/swift/usr/bin:$PATH

[ "$(id -u)" = 0 ] || { echo "http: needs root (tap, network namespaces)" >&2; exit 1; }
for tool in wrk nginx curl; do
    command -v $tool >/dev/null || { echo "http: needs $tool (apt-get install $tool)" >&2; exit 1; }
done

scratch=()
[ -n "${SCRATCH:-}" ] && scratch=(--scratch-path "$SCRATCH")
swift build "${scratch[@]}" -c release --product riad-hvt >/dev/null
swift build "${scratch[@]}" --product riad >/dev/null
riad=$(swift build "${scratch[@]}" --show-bin-path)/riad
tender=$(swift build "${scratch[@]}" -c release --show-bin-path)/riad-hvt
image=$("$riad" build examples/website -t hvt 2>/dev/null | tail -n 1)
htdocs=$PWD/examples/website/htdocs
page=index.html

tap=riadbench1
host=10.86.0.1
kernel_address=10.86.0.2
nginx_address=10.87.0.2
work=""
kernel=""
cleanup() {
    [ -n "$kernel" ] && kill "$kernel" 2>/dev/null && wait "$kernel" 2>/dev/null || true
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    [ -n "${influxd:-}" ] && kill "$influxd" 2>/dev/null || true
    ip link del "$tap" 2>/dev/null || true
    ip link del riadbench-vh 2>/dev/null || true
    ip netns del riadbench-n 2>/dev/null || true
    if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
cleanup
work=$(mktemp -d)
ip tuntap add dev "$tap" mode tap
ip addr add $host/24 dev "$tap"
ip link set "$tap" up

# Starts the website kernel with --mem=$1 and the rest as its arguments;
# returns 1 if it did not say it serves.
start_kernel() {
    local memory=$1
    shift
    # Each kernel has a new MAC address: forget the last one's.
    ip neigh flush dev "$tap"
    "$tender" --stats "${tender_options[@]}" --mem="$memory" --net:service="$tap" "$image" \
        --ipv4=$kernel_address/24 "$@" >"$work/kernel.log" 2>&1 &
    kernel=$!
    for _ in $(seq 100); do
        grep -q "serving" "$work/kernel.log" && return 0
        kill -0 "$kernel" 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

tender_options=()

# SIGTERM: riad-hvt prints its --stats and exits.
stop_kernel() {
    kill -TERM "$kernel" 2>/dev/null || true
    wait "$kernel" 2>/dev/null || true
    kernel=""
}

# VM exits per request of the last kernel: its --stats over the requests
# wrk made (warm-up and run).
exits_per_request() {
    local exits requests
    exits=$(sed -n 's/.*stats: \([0-9]*\) exits.*/\1/p' "$work/kernel.log")
    requests=$(cat "$work/wrk-warm.txt" "$work/wrk.txt" | awk '/requests in/ { total += $1 } END { print total }')
    python3 -c "print('%.2f' % (${exits:-0} / max(1, ${requests:-0})))"
}

# Requests per second of wrk against URL for SECONDS with CONNECTIONS
# (default: the benchmark's), after a 1 s warm-up; fails on socket errors
# or non-2xx answers.
measure() {
    local url=$1 duration=$2 clients=${3:-$connections}
    local threads=$((clients < 2 ? 1 : 2))
    wrk -c "$clients" -t $threads -d 1s "$url" >"$work/wrk-warm.txt" 2>&1
    wrk -c "$clients" -t $threads -d "${duration}s" "$url" >"$work/wrk.txt" 2>&1
    if grep -q -e "Non-2xx" -e "Socket errors" -e "unable to connect" "$work/wrk.txt"; then
        return 1
    fi
    awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.txt"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# nginx in a namespace, reached over a veth pair.
ip netns add riadbench-n
ip link add riadbench-vh type veth peer name riadbench-vn netns riadbench-n
ip addr add 10.87.0.1/24 dev riadbench-vh
ip link set riadbench-vh up
ip -n riadbench-n addr add $nginx_address/24 dev riadbench-vn
ip -n riadbench-n link set riadbench-vn up
ip -n riadbench-n link set lo up
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    keepalive_requests 1000;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen $nginx_address:80;
        root $htdocs;
    }
}
EOF
ip netns exec riadbench-n nginx -c "$work/nginx.conf" -p "$work/nginx"
for _ in $(seq 50); do curl -sf -o /dev/null http://$nginx_address/$page && break; sleep 0.1; done
curl -sf http://$nginx_address/$page | cmp -s - "$htdocs/$page" ||
    { echo "http: nginx does not serve $page" >&2; exit 1; }

# A real InfluxDB for the last configuration, if installed.
configurations=(off hypercalls prometheus influx-down)
if command -v influxd >/dev/null; then
    mkdir -p "$work/influxdb"
    cat >"$work/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "$host:8088"
[meta]
  dir = "$work/influxdb/meta"
[data]
  dir = "$work/influxdb/data"
  wal-dir = "$work/influxdb/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "$host:8086"
  log-enabled = false
EOF
    influxd -config "$work/influxdb.conf" >"$work/influxd.log" 2>&1 &
    influxd=$!
    for _ in $(seq 100); do curl -sf http://$host:8086/ping && break; sleep 0.1; done
    curl -sf -XPOST http://$host:8086/query --data-urlencode 'q=CREATE DATABASE riad' >/dev/null
    configurations+=(influx-up)
fi

arguments() {
    case $1 in
    off | hypercalls) ;;
    prometheus) echo "--metrics=prometheus" ;;
    influx-down) echo "--metrics=influx-http:$host:9/riad --metrics-interval=1" ;;
    influx-up) echo "--metrics=influx-http:$host:8086/riad --metrics-interval=1" ;;
    esac
}

declare -A results exits
for run in $(seq "$runs"); do
    results[nginx]+="$(measure http://$nginx_address/$page "$seconds" || { cat "$work/wrk.txt" >&2; exit 1; }) "
    for configuration in "${configurations[@]}"; do
        tender_options=()
        if [ "$configuration" = hypercalls ]; then tender_options=(--net-ring=off); fi
        # shellcheck disable=SC2046
        start_kernel 16 $(arguments "$configuration") ||
            { cat "$work/kernel.log"; echo "http: the kernel did not start" >&2; exit 1; }
        curl -sf -m 5 http://$kernel_address/$page | cmp -s - "$htdocs/$page" ||
            { cat "$work/kernel.log"; echo "http: the kernel ($configuration) does not serve $page" >&2; exit 1; }
        results[$configuration]+="$(measure http://$kernel_address/$page "$seconds" ||
            { cat "$work/wrk.txt" "$work/kernel.log" >&2; exit 1; }) "
        if [ "$configuration" = prometheus ]; then
            high_water=$(curl -sf http://$kernel_address/metrics | awk '/^riad_heap_high_water_bytes/ { print $2 }')
        fi
        stop_kernel
        if [ "$configuration" = off ] || [ "$configuration" = hypercalls ]; then
            exits[$configuration]+="$(exits_per_request) "
        fi
    done
    tender_options=()
done
if [ -n "${influxd:-}" ]; then
    points=$(curl -sG http://$host:8086/query --data-urlencode db=riad \
        --data-urlencode 'q=SELECT count("jobs_run") FROM "loop"' |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["results"][0]; print(r["series"][0]["values"][0][1] if "series" in r else 0)')
fi

# The smallest --mem (MiB; riad-hvt rounds down to 2) at which it serves
# with CLIENTS connections at once: starts, answers, takes a 2 s burst,
# answers again, still runs. Sets `smallest` and what the kernel below it
# said (`below`).
smallest_memory() {
    local clients=$1
    smallest=none
    below=""
    for memory in $(seq 2 2 64); do
        if start_kernel "$memory" &&
            curl -sf -m 5 http://$kernel_address/$page | cmp -s - "$htdocs/$page" &&
            measure http://$kernel_address/$page 2 "$clients" >/dev/null &&
            curl -sf -m 5 http://$kernel_address/$page | cmp -s - "$htdocs/$page" &&
            kill -0 "$kernel" 2>/dev/null; then
            smallest=$memory
            stop_kernel
            return
        fi
        below="$memory MiB: $(grep -v "serving" "$work/kernel.log" | head -n 1 || true)"
        stop_kernel
    done
}
smallest_memory 1
smallest_one=$smallest below_one=$below
smallest_memory "$connections"
smallest_load=$smallest below_load=$below

size=$(stat -c %s "$image")
python3 - "$seconds" "$runs" "$connections" "$size" "$smallest_one" "$below_one" "$smallest_load" \
    "$below_load" "${high_water:-}" "${points:-}" "${results[nginx]}" "${results[off]}" "${results[prometheus]}" "${results[influx-down]}" \
    "${results[influx-up]:-}" "${results[hypercalls]}" "${exits[off]}" "${exits[hypercalls]}" \
    "$(git rev-parse --short HEAD)" <<'PY'
import statistics, sys
seconds, runs, connections, size, smallest_one, below_one, smallest_load, below_load, high_water, points = sys.argv[1:11]
nginx, off, prometheus, down, up, calls, off_exits, call_exits = ([float(x) for x in a.split()] for a in sys.argv[11:19])
commit = sys.argv[19]
m = statistics.median
print(f"commit {commit}; wrk -c {connections} -t 2, {seconds} s, median of {runs} runs, GET /index.html (283 bytes)")
print(f"  nginx (1 worker) in a netns over veth: {m(nginx):9.0f} req/s   runs {' '.join(f'{x:.0f}' for x in nginx)}")
print(f"  Riad website.hvt over a tap:           {m(off):9.0f} req/s   runs {' '.join(f'{x:.0f}' for x in off)}"
      f"   ratio to nginx {m(off) / m(nginx):.3f}; {m(off_exits):.2f} VM exits per request")
print(f"  the same, hypercalls only (no ring):   {m(calls):9.0f} req/s   runs {' '.join(f'{x:.0f}' for x in calls)}"
      f"   ratio to nginx {m(calls) / m(nginx):.3f}; {m(call_exits):.2f} VM exits per request")
def cost(name, values):
    if values:
        print(f"  metrics {name:<28} {m(values):9.0f} req/s   runs {' '.join(f'{x:.0f}' for x in values)}"
              f"   cost {(m(off) - m(values)) / m(off) * 100:+.1f} %")
cost("--metrics=prometheus:", prometheus)
cost("influx-http, sink down (1 s):", down)
cost("influx-http to influxd (1 s):", up)
if up:
    print(f"  (influxd stored {points} points of the loop source during the influx-http runs)")
print(f"website.hvt: {int(size)} bytes ({int(size) / 1024:.0f} KiB)")
if high_water:
    print(f"heap high-water mark after the --metrics=prometheus runs: {int(high_water)} bytes"
          f" ({int(high_water) / 2**20:.1f} MiB)")
print(f"smallest --mem that serves (2 MiB steps), 1 connection: {smallest_one} MiB"
      + (f"; at {below_one}" if below_one else ""))
print(f"smallest --mem that serves (2 MiB steps), {connections} connections: {smallest_load} MiB"
      + (f"; at {below_load}" if below_load else ""))
PY
