#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Parse time of hostile policies: a 1 MiB HOSTUP_POLICY, 10,000 rules, a
# deeply nested JSON config, the largest inputs accepted (256 KiB each, at
# most 10,000 rules in all), the same shapes at 1 MiB (now refused, and
# what they cost when they were read: the reason for the 256 KiB limit) and
# other inputs refused by the limits (a 50 MB file, a FIFO, /dev/zero).  An environment string is at most 128 KiB at
# execve (MAX_ARG_STRLEN), so python3 sets the variable and then dlopens the
# library, whose constructor parses it: the time of that dlopen, median of
# 5, against the same dlopen with no policy.  HU_BUILD picks the build.  Writes bench/results/parse.md.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
LIB=$(realpath "$B/libhostup.so")
OUT=bench/results/parse.md
T=$(mktemp -d /tmp/hostup-parse.XXXXXX)
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3

"$PY" - "$T" <<'PY'
import json, os, sys
t = sys.argv[1]
open(f"{t}/deep_array.json", "w").write('{"rules": ' + "[" * 100000 + "]" * 100000 + "}")
n = 1500   # built as text: json.dumps would recurse
open(f"{t}/deep_object.json", "w").write('{"rules": [' + '{"x": ' * n + '{"match": "*", "attempts": 3}' + "}" * n + "]}")
rules = [{"match": f"host{i}.example:{1000 + i % 5000}", "attempts": 3} for i in range(10000)]
open(f"{t}/rules10k.json", "w").write(json.dumps({"rules": rules}))
def fill(path, limit_bytes, head, item, tail):
    """head + item(0),item(1)... + tail, as much as fits, padded to limit_bytes"""
    out, size, i = [], len(head) + len(tail), 0
    while True:
        it = item(i)
        if size + len(it) + 1 > limit_bytes:
            break
        out.append(it); size += len(it) + 1; i += 1
    body = head + ",".join(out) + tail
    open(path, "w").write(body + " " * (limit_bytes - len(body)))
opts = '"attempts": 20, "timeout": "2s", "deadline": "90s", "backoff": "100ms..5s", "multiplier": 1.5, "jitter": "decorrelated", "retry_on": ["ECONNREFUSED", "EHOSTUNREACH"], "so_error": "zero"'
for name, size in (("256k", 1 << 18), ("1m", 1 << 20)):
    # rules with every option; one rule's keys (jansson's hash table at its
    # largest); the smallest rules (more than the 10,000 that are read)
    fill(f"{t}/rules_{name}.json", size, '{"rules": [',
         lambda i: '{"match": "db%d.svc.cluster.local:%d", %s}' % (i, 1 + i % 60000, opts), "]}")
    fill(f"{t}/keys_{name}.json", size, '{"rules": [{"match": "*", ', lambda i: '"//%d": 0' % i, "}]}")
    fill(f"{t}/small_{name}.json", size, '{"rules": [', lambda i: '{"match":"*"}', "]}")
# refused: 50 MB, and two kinds of file that are not regular
open(f"{t}/50mb.json", "w").truncate(50 * 1000 * 1000)
os.mkfifo(f"{t}/fifo")
PY

# CASE POLICY_KIND CONFIG: prints "median_ms records bytes_of_records"
run() {
	"$PY" - "$LIB" "$1" "${2:-}" "$T/rec.log" <<'PY'
import ctypes, os, statistics, subprocess, sys, time
lib, kind, cfg, rec = sys.argv[1:5]
MiB = 1 << 20
def policy(kind):
    if kind == "none": return None
    if kind in ("1mib_rules", "256k_rules"):     # valid rules, 50,000 / 12,000 of them
        n = MiB if kind == "1mib_rules" else MiB // 4
        out, size, i = [], 0, 0
        while size < n:
            out.append(f"h{i}.example:{1 + i % 60000} attempts=3; "); size += len(out[-1]); i += 1
        return "".join(out)[:n]
    if kind == "256k_token": return "x" * (MiB // 4)
    if kind == "1mib_token": return "x" * MiB          # one bad rule
    if kind == "1mib_semicolons": return ";" * MiB     # 1 Mi empty rules
    if kind == "10k_rules":
        return "; ".join(f"host{i}.example:{1000 + i % 5000} attempts=3" for i in range(10000))
    if kind == "100kb_garbage":       # hundreds of bad rules: 10 records and a count
        import random
        r = random.Random(13)
        return "".join(r.choice("@#!= ;") for _ in range(100000))

    raise SystemExit("unknown " + kind)
code = r'''
import ctypes, os, sys, time
p = sys.argv[1]
if p != "-": os.environ["HOSTUP_POLICY"] = open(p).read()
if sys.argv[2]: os.environ["HOSTUP_CONFIG"] = sys.argv[2]
os.environ["HOSTUP_LOG"] = sys.argv[3]
t0 = time.perf_counter(); ctypes.CDLL(sys.argv[4]); t1 = time.perf_counter()
print((t1 - t0) * 1000)
'''
pol = policy(kind)
pfile = "-"
if pol is not None:
    pfile = rec + ".policy"; open(pfile, "w").write(pol)
ms = []
for _ in range(5):
    open(rec, "w").close()
    r = subprocess.run([sys.executable, "-c", code, pfile, cfg, rec, lib], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        print(f"FAILED rc={r.returncode} {r.stderr.strip()[-200:]}"); sys.exit(0)
    ms.append(float(r.stdout))
data = open(rec, "rb").read()
print("%.2f %d %d" % (statistics.median(ms), data.count(b"\n"), len(data)))
PY
}

{
	echo "# Parse time of hostile policies"
	echo
	echo "\`bench/parse_bound.sh\`, $(date -u +%Y-%m-%d), $(nproc) cores, $B/libhostup.so."
	echo "Time of dlopen of the library (its constructor parses HOSTUP_POLICY and"
	echo "HOSTUP_CONFIG and writes the config_error records), median of 5 runs;"
	echo "records go to a file.  The program runs on in every case.  Load average"
	echo "when it started: $(cut -d" " -f1-3 /proc/loadavg) (the 2 cores are shared)."
	echo
	echo "| input | dlopen ms (median) | config_error records | record bytes |"
	echo "|---|---:|---:|---:|"
	while IFS='|' read -r label kind cfg; do
		read -r ms n bytes <<<"$(run "$kind" "$cfg")"
		echo "| $label | $ms | ${n:-} | ${bytes:-} |"
	done <<-EOF2
	no policy (baseline)|none|
	HOSTUP_POLICY 10,000 rules (about 330 KB: refused)|10k_rules|
	HOSTUP_POLICY 256 KiB of valid rules (12,000: 10,000 read)|256k_rules|
	HOSTUP_POLICY 256 KiB, one bad token|256k_token|
	HOSTUP_POLICY 1 MiB of valid rules (refused)|1mib_rules|
	HOSTUP_POLICY 1 MiB of ';' (refused)|1mib_semicolons|
	HOSTUP_POLICY 100 KB of garbage (10 records and a count)|100kb_garbage|
	HOSTUP_CONFIG with 10,000 rules (about 480 KB: refused)|none|$T/rules10k.json
	HOSTUP_CONFIG nested 100,000 arrays deep|none|$T/deep_array.json
	HOSTUP_CONFIG rule nested 1,500 objects deep|none|$T/deep_object.json
	HOSTUP_CONFIG 256 KiB of rules with every option|none|$T/rules_256k.json
	HOSTUP_CONFIG 256 KiB, one rule with comment keys to the limit|none|$T/keys_256k.json
	HOSTUP_CONFIG 256 KiB of the smallest rules (10,000 read)|none|$T/small_256k.json
	**both at their worst**: HOSTUP_POLICY 256 KiB bad token + HOSTUP_CONFIG 256 KiB of the smallest rules|256k_token|$T/small_256k.json
	HOSTUP_POLICY 256 KiB of rules + HOSTUP_CONFIG 256 KiB of keys|256k_rules|$T/keys_256k.json
	HOSTUP_CONFIG 1 MiB of rules with every option (refused)|none|$T/rules_1m.json
	HOSTUP_CONFIG 1 MiB of comment keys (refused)|none|$T/keys_1m.json
	HOSTUP_CONFIG 50 MB file (refused)|none|$T/50mb.json
	HOSTUP_CONFIG a FIFO (refused)|none|$T/fifo
	HOSTUP_CONFIG /dev/zero (refused)|none|/dev/zero
	EOF2
	echo
	echo "Why 256 KiB and not 1 MiB: jansson itself (\`json_loadb\` of libjansson,"
	echo "no hostup code), best of 5, on the same JSON shapes:"
	echo
	echo "| input | json_loadb ms (best of 5) |"
	echo "|---|---:|"
	for f in rules_256k keys_256k small_256k rules_1m keys_1m small_1m; do
		"$PY" - "$T/$f.json" <<-'PY'
		import ctypes, ctypes.util, sys, time
		j = ctypes.CDLL(ctypes.util.find_library("jansson") or "libjansson.so.4")
		j.json_loadb.restype = ctypes.c_void_p
		j.json_loadb.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p]
		data = open(sys.argv[1], "rb").read()
		err = ctypes.create_string_buffer(512)
		best = min((lambda t0: (j.json_loadb(data, len(data), 0, err), time.perf_counter() - t0)[1])(time.perf_counter())
		           for _ in range(5))
		print("| %s, %d KiB | %.2f |" % (sys.argv[1].rsplit("/", 1)[1], len(data) >> 10, best * 1000))
		PY
	done
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
