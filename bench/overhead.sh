#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Overhead when nothing fails, in wall time and memory, with and without
# libhostup.so in one run, alternating (bare, shim, shim, bare, ...), so
# drift in the machine's speed hits both sides alike.
#   - connect() and getaddrinfo() per call (bench/calls, 20,000 calls)
#   - curl: 2,000 HTTP requests to a local nginx, a new connection each
#   - python3 reading a 1 GiB local file in 64 KiB read()s (page cache warm)
#   - node HTTP server under wrk (server preloaded or not; wrk never)
#   - RSS of a process holding 10,000 connected TCP sockets
#   - start-up: from exec to main()
# Writes bench/results/overhead.md.  Only loopback is used.
set -u
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
LIB=$PWD/$B/libhostup.so
RQ=${OVERHEAD_RUNS:-21}         # pairs per program (runs of under a second)
RW=${OVERHEAD_WRK_RUNS:-7}      # pairs of node + wrk runs (3 s each)
R=$RQ
# Debian's python3, not a version manager's shim (a shell script that would
# be preloaded too and adds its own start-up)
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
for t in calls startup sockets; do
	[[ -x $B/bench/$t ]] || { echo "bench: missing $B/bench/$t" >&2; exit 1; }
done
for c in curl nginx python3 node wrk taskset; do
	command -v $c >/dev/null || { echo "bench: needs $c (bash tests/deps.sh bench)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/hostup-bench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOSTUP_LOG=off   # nothing fails here; no record would be written anyway

secs() { # CMD... -> wall seconds (the command's output is discarded)
	local t0=${EPOCHREALTIME/[.,]/} t1
	"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; return 1; }
	t1=${EPOCHREALTIME/[.,]/}
	echo $(((t1 - t0))) | awk '{printf "%.6f\n", $1 / 1e6}'
}

# PAIRS: alternating runs of a measuring function M (prints one number)
# with "" and with $LIB as its first argument; one line "bare shim" per pair.
pairs() { # M ARGS...
	local i b s
	for ((i = 0; i < R; i++)); do
		if ((i % 2 == 0)); then b=$("$@" "") s=$("$@" "$LIB"); else s=$("$@" "$LIB") b=$("$@" ""); fi
		echo "$b $s"
	done
}

# one table row from "bare shim" lines: the medians of each side, and the
# median of the per-pair ratios (robust to a burst of load from elsewhere
# on the machine, which hits one pair), with their range.  HIGHER=1 when
# bigger numbers are better (requests per second).
row() { # WHAT UNIT HIGHER TARGET <pairs
	awk -v what="$1" -v unit="$2" -v higher="$3" -v tgt="$4" '
		function med(a, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		{ n++; b[n] = $1; s[n] = $2; r[n] = higher ? $1 / $2 : $2 / $1 }
		END {
			lo = r[1]; hi = r[1]; for (i = 2; i <= n; i++) { if (r[i] < lo) lo = r[i]; if (r[i] > hi) hi = r[i] }
			mb = med(b, n); ms = med(s, n); rr = med(r, n)
			met = tgt == "-" ? "-" : (rr <= tgt + 0 ? "yes" : "no")
			printf "| %s | %d | %.4g %s | %.4g %s | %.3f | %.3f .. %.3f | %s | %s |\n",
				what, n, mb, unit, ms, unit, rr, lo, hi, tgt == "-" ? "-" : "<= " tgt, met }'
}

out=bench/results/overhead.md
rows=$tmp/rows
: >"$rows"
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- connect() and getaddrinfo() per call ------------------------------------
percall() { # OP N PRELOAD -> microseconds per call
	local s
	s=$(secs env ${3:+LD_PRELOAD=$3} "$B/bench/calls" "$1" "$2") || return 1
	awk -v s="$s" -v n="$2" 'BEGIN {printf "%.4f\n", s * 1e6 / n}'
}
pc_connect() { percall connect 20000 "$1"; }
pc_gai() { percall getaddrinfo 20000 "$1"; }
echo "bench: wall time of connect() and getaddrinfo() per call" >&2
pairs pc_connect | row 'connect() to a loopback listener (+ accept, 2 close), per call' 'us' 0 1.01 >>"$rows"
pairs pc_gai | row 'getaddrinfo("localhost"), per call' 'us' 0 1.01 >>"$rows"

# ---- curl against nginx -----------------------------------------------------
port=$((20000 + RANDOM % 10000))
mkdir -p "$tmp/www" "$tmp/nginx"
echo "hello from hostup-bench" >"$tmp/www/hello.txt"
cat >"$tmp/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server { listen 127.0.0.1:$port; root $tmp/www; }
}
EOF
taskset -c 0 nginx -c "$tmp/nginx.conf" -e "$tmp/nginx/error.log" &
pids+=($!)
for ((i = 0; i < 50; i++)); do curl -sf "http://127.0.0.1:$port/hello.txt" >/dev/null && break; sleep 0.1; done
{
	echo 'header = "Connection: close"'
	for ((i = 0; i < 2000; i++)); do echo "url = \"http://127.0.0.1:$port/hello.txt\""; done
} >"$tmp/curl.cfg"
run_curl() { secs env ${1:+LD_PRELOAD=$1} taskset -c 1 curl -sf -K "$tmp/curl.cfg"; }
echo "bench: curl, 2,000 requests to nginx" >&2
run_curl "" >/dev/null  # warm-up
pairs run_curl | row 'curl: 2,000 requests to a local nginx, new connection each' 's' 0 1.02 >>"$rows"

# ---- python3 reading 1 GiB ------------------------------------------------
echo "bench: python3 reading 1 GiB" >&2
dd if=/dev/zero of="$tmp/big" bs=1M count=1024 status=none
PYREAD='import sys
f = open(sys.argv[1], "rb")
while f.read(65536):
    pass'
run_py() { secs env ${1:+LD_PRELOAD=$1} "$PY" -c "$PYREAD" "$tmp/big"; }
run_py "" >/dev/null    # warm-up: the file is in the page cache from here on
pairs run_py | row 'python3: read a 1 GiB local file, 64 KiB read()s' 's' 0 1.02 >>"$rows"
# the control: the same comparison with a library that only allocates
cc -O2 -shared -fPIC -o "$tmp/libpad.so" bench/padlib.c || exit 1
run_pad() { [[ -z $1 ]] && run_py "" || run_py "$tmp/libpad.so"; }
pairs run_pad | row 'control: python3 as above, preloading bench/padlib.c (no wrappers; its constructor only calls malloc(1000)) instead of hostup' 's' 0 - >>"$rows"
rm -f "$tmp/big"

# ---- node under wrk -----------------------------------------------------------
echo "bench: node HTTP server under wrk" >&2
nport=$((port + 1))
NODESRV='require("http").createServer((q, s) => s.end("hello\n")).listen(+process.argv[1], "127.0.0.1")'
run_node() { # PRELOAD -> requests per second
	local np rps
	env ${1:+LD_PRELOAD=$1} taskset -c 0 node -e "$NODESRV" "$nport" &
	np=$!
	for ((i = 0; i < 100; i++)); do curl -sf "http://127.0.0.1:$nport/" >/dev/null && break; sleep 0.05; done
	rps=$(taskset -c 1 wrk -t1 -c32 -d3s "http://127.0.0.1:$nport/" | awk '/^Requests\/sec:/ {print $2}')
	kill $np
	wait $np 2>/dev/null
	echo "${rps:-0}"
}
R=$RW
pairs run_node | row 'node http server under wrk (1 thread, 32 connections, 3 s): requests/s' 'req/s' 1 1.02 >>"$rows"

R=$RQ

# ---- memory --------------------------------------------------------------------
echo "bench: RSS with 10,000 sockets" >&2
rss() { # N PRELOAD -> VmRSS kB
	env ${2:+LD_PRELOAD=$2} "$B/bench/sockets" "$1" | awk '{print $1}'
}
rss0() { rss 0 "$1"; }
rss10k() { rss 10000 "$1"; }
mem=$tmp/mem
{ pairs rss0 | awk '{print "0", $0}'; pairs rss10k | awk '{print "10000", $0}'; } >"$mem"

# ---- start-up ----------------------------------------------------------------
echo "bench: start-up" >&2
"$B/bench/startup" 1000 "$LIB" >"$tmp/startup"

# ---- report ------------------------------------------------------------------
{
	echo "# Overhead when nothing fails: wall time, memory, start-up"
	echo
	echo "Command: \`bash bench/overhead.sh\` (run by \`make bench\`)."
	echo "Machine: $(bash bench/machine.sh)."
	echo "Versions: $(curl --version | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | sed 's/.*: //'), $("$PY" --version), node $(node --version), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)."
	echo
	echo "Each program runs N times with and N times without \`LD_PRELOAD=libhostup.so\` (N = pairs),"
	echo "alternating (bare then hostup, then hostup then bare, ...). Each pair gives a ratio, hostup / bare"
	echo "for times and bare / hostup for requests per second (above 1: hostup is slower); the table shows"
	echo "the median of those ratios and their range, beside the median of each side. Servers and clients"
	echo "are pinned to one core each (\`taskset\`) where two processes run at once. The target for the real"
	echo "programs is 1.02. Load average before and after: $load0 / $(cut -d' ' -f1-3 /proc/loadavg) (other"
	echo "work on the machine shows up as outlying pairs)."
	echo
	echo "| what | pairs | bare (median) | with hostup (median) | ratio | per-pair ratios | target | met |"
	echo "|---|---:|---:|---:|---:|---|---|---|"
	cat "$rows"
	echo
	echo "## Memory"
	echo
	echo "\`bench/sockets N\`: one process opens N TCP sockets, connects each to a loopback listener in"
	echo "a child process without blocking (as event loops do), waits with \`poll()\` until all are"
	echo "connected, then reads its own VmRSS. Median of $R runs each."
	echo
	echo "| sockets | RSS bare | RSS with hostup | extra | extra per socket |"
	echo "|---:|---:|---:|---:|---:|"
	awk '
		function med(a, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		{ k = $1; n[k]++; b[k, n[k]] = $2; s[k, n[k]] = $3 }
		END {
			for (k = 0; k <= 10000; k += 10000) {
				delete x; delete y
				for (i = 1; i <= n[k]; i++) { x[i] = b[k, i]; y[i] = s[k, i] }
				mb = med(x, n[k]); ms = med(y, n[k])
				printf "| %d | %d kB | %d kB | %+d kB | %s |\n", k, mb, ms, ms - mb,
					k ? sprintf("%.0f bytes", (ms - mb) * 1024 / k) : "-"
			}
		}' "$mem"
	echo
	echo "## Start-up"
	echo
	echo "\`bench/startup 1000 libhostup.so\`: spawns a program 1,000 times, alternating without and with"
	echo "the library, and measures from just before \`posix_spawn()\` to the first line of \`main()\`"
	echo "(exec, the dynamic loader, and for the preloaded runs loading the library and its constructor,"
	echo "which binds the wrapped calls and reads \`HOSTUP_POLICY\`)."
	echo
	echo "| | runs | median | p10 | p90 |"
	echo "|---|---:|---:|---:|---:|"
	for k in bare shim; do
		awk -v k=$k '$1 == k {print $2}' "$tmp/startup" | sort -n | awk -v k=$k '
			{ a[++n] = $1 }
			END { printf "| %s | %d | %.0f us | %.0f us | %.0f us |\n", k == "bare" ? "without hostup" : "with hostup",
				n, a[int((n + 1) / 2)], a[int(n * 0.1) + 1], a[int(n * 0.9)] }'
	done
	echo
	echo "Extra instructions at start-up (callgrind): bench/results/calls.md."
} >"$out"
cat "$out"
