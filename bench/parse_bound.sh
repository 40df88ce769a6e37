#!/usr/bin/env bash
# Parse time of hostile policies: a 1 MiB HOSTUP_POLICY, 10,000 rules, a
# deeply nested JSON config.  An environment string is at most 128 KiB at
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
import json, sys
t = sys.argv[1]
open(f"{t}/deep_array.json", "w").write('{"rules": ' + "[" * 100000 + "]" * 100000 + "}")
n = 1500   # built as text: json.dumps would recurse
open(f"{t}/deep_object.json", "w").write('{"rules": [' + '{"x": ' * n + '{"match": "*", "attempts": 3}' + "}" * n + "]}")
rules = [{"match": f"host{i}.example:{1000 + i % 5000}", "attempts": 3} for i in range(10000)]
open(f"{t}/rules10k.json", "w").write(json.dumps({"rules": rules}))
PY

# CASE POLICY_KIND CONFIG: prints "median_ms records bytes_of_records"
run() {
	"$PY" - "$LIB" "$1" "${2:-}" "$T/rec.log" <<'PY'
import ctypes, os, statistics, subprocess, sys, time
lib, kind, cfg, rec = sys.argv[1:5]
MiB = 1 << 20
def policy(kind):
    if kind == "none": return None
    if kind == "1mib_rules":          # valid rules, about 50,000 of them
        out, i = [], 0
        while sum(map(len, out)) < MiB:
            out.append(f"h{i}.example:{1 + i % 60000} attempts=3; "); i += 1
        return "".join(out)[:MiB]
    if kind == "1mib_token": return "x" * MiB          # one bad rule
    if kind == "1mib_semicolons": return ";" * MiB     # 1 Mi empty rules
    if kind == "10k_rules":
        return "; ".join(f"host{i}.example:{1000 + i % 5000} attempts=3" for i in range(10000))
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
	echo "records go to a file.  The program runs on in every case."
	echo
	echo "| input | dlopen ms (median) | config_error records | record bytes |"
	echo "|---|---:|---:|---:|"
	while IFS='|' read -r label kind cfg; do
		read -r ms n bytes <<<"$(run "$kind" "$cfg")"
		echo "| $label | $ms | ${n:-} | ${bytes:-} |"
	done <<-EOF2
	no policy (baseline)|none|
	HOSTUP_POLICY 10,000 rules (about 330 KB)|10k_rules|
	HOSTUP_POLICY 1 MiB of valid rules|1mib_rules|
	HOSTUP_POLICY 1 MiB, one bad token|1mib_token|
	HOSTUP_POLICY 1 MiB of ';' (empty rules)|1mib_semicolons|
	HOSTUP_CONFIG with 10,000 rules|none|$T/rules10k.json
	HOSTUP_CONFIG nested 100,000 arrays deep|none|$T/deep_array.json
	HOSTUP_CONFIG rule nested 1,500 objects deep|none|$T/deep_object.json
	EOF2
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
