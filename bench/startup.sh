#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What hostup adds to every exec, for one or more builds of the library in
# one run (so they meet the same machine):
#   1. callgrind: instructions of `/bin/true` without and with the library
#      preloaded, the breakdown of the difference (the loader's relocation
#      and symbol look-ups, its mapping and version checks, our own code),
#      and `readelf -r` counts of the library;
#   2. wall time: a shell loop of 1,000 `/bin/true` execs, bare, with an
#      empty preloaded library and with each build, in rounds whose order
#      rotates; the median of the ratios within a round, to bare and to
#      the empty library;
#   3. exec to main() (bench/startup.c: 2,000 spawns, alternating), with an
#      empty preloaded library as the control: what any preload costs.
# Usage: bench/startup.sh [LABEL=LIB ...]   (default: now=$B/libhostup.so)
# Writes bench/results/startup.md (or $STARTUP_OUT).  STARTUP_RUNS: rounds
# (default 21).
set -u
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
command -v valgrind >/dev/null || { echo "bench: needs valgrind" >&2; exit 1; }
(($#)) || set -- "now=$PWD/$B/libhostup.so"
RUNS=${STARTUP_RUNS:-21}
N=1000
out=${STARTUP_OUT:-bench/results/startup.md}
tmp=$(mktemp -d /tmp/hostup-startup.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOSTUP_LOG=off

cg() { # PRELOAD NAME -> Ir of /bin/true; profile in $tmp/NAME.cg
	env ${1:+LD_PRELOAD=$1} valgrind --tool=callgrind --callgrind-out-file="$tmp/$2.cg" /bin/true 2>/dev/null
	awk '/^(summary|totals):/ {print $2; exit}' "$tmp/$2.cg"
}
incl() { # NAME FUNCTION-REGEX -> inclusive Ir of the first match
	callgrind_annotate --inclusive=yes "$tmp/$1.cg" 2>/dev/null |
		awk -v re="$2" '$0 ~ re { gsub(/,/, "", $1); print $1; found = 1; exit } END { if (!found) print 0 }'
}
loop() { # PRELOAD -> wall seconds of N execs of /bin/true from one shell
	local t0 t1
	t0=${EPOCHREALTIME/[.,]/}
	env ${1:+LD_PRELOAD=$1} bash -c "for ((i = 0; i < $N; i++)); do /bin/true; done"
	t1=${EPOCHREALTIME/[.,]/}
	echo $(((t1 - t0) / 1000))
}

bare=$(cg "" bare)
{
	echo "# Start-up: what hostup adds to every exec"
	echo
	echo "Command: \`bash bench/startup.sh $*\`."
	echo "Machine: $(bash bench/machine.sh); load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "## Instructions (callgrind, \`/bin/true\`)"
	echo
	echo "Without hostup: $bare instructions. Target: at most +30,000 with it."
	echo
	echo "| build | with hostup | extra | relocating (\`_dl_relocate_object\`) | symbol look-ups (\`_dl_lookup_symbol_x\`) | mapping objects (\`_dl_map_object_deps\`) | version checks | constructors (\`_dl_init\`) | \`readelf -r\` entries | of them symbolic (not RELATIVE) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"
for arg in "$@"; do
	label=${arg%%=*} lib=${arg#*=}
	n=$(cg "$lib" "$label")
	r=$(readelf -rW "$lib" | grep -c 'R_[A-Z0-9_]*_')
	rs=$(readelf -rW "$lib" | grep 'R_[A-Z0-9_]*_' | grep -vc RELATIVE)
	d() { echo $(($(incl "$label" "$1") - $(incl bare "$1"))); }
	printf '| %s | %s | %+d | %+d | %+d | %+d | %+d | %+d | %s | %s |\n' "$label" "$n" $((n - bare)) \
		"$(d 'dl-reloc.c:_dl_relocate_object ')" "$(d 'dl-lookup.c:_dl_lookup_symbol_x ')" \
		"$(d 'dl-deps.c:_dl_map_object_deps ')" "$(d 'dl-version.c:_dl_check_all_versions ')" \
		"$(d 'dl-init.c:_dl_init ')" "$r" "$rs" >>"$out"
done
{
	echo
	echo "The columns after \"extra\" are inclusive differences from the run without hostup; they overlap"
	echo "(look-ups happen inside relocation)."
	echo
	echo "## Wall time: $N execs of \`/bin/true\` from one shell loop"
	echo
	echo "$RUNS rounds; each round runs the loop once bare (nothing preloaded), once with \"empty\""
	echo "(a library with one empty function: what preloading anything costs) and once with each"
	echo "build, in an order that rotates from round to round.  Ratios are taken within a round and"
	echo "the table gives their median (and the middle half of them).  Target: at most 1.05 against bare."
	echo
	echo "| build | median, ms | ratio to bare | middle half | ratio to empty | middle half |"
	echo "|---|---:|---:|---|---:|---|"
} >>"$out"
echo 'void hu_bench_empty(void) {}' >"$tmp/empty.c"
cc -shared -fPIC -o "$tmp/empty.so" "$tmp/empty.c"
# the sides of a round: bare, empty, then each build
sides=("bare=" "empty=$tmp/empty.so" "$@")
: >"$tmp/rounds"
for ((k = 0; k < RUNS; k++)); do
	row=()
	for ((j = 0; j < ${#sides[@]}; j++)); do row[j]=0; done
	for ((j = 0; j < ${#sides[@]}; j++)); do
		i=$(((j + k) % ${#sides[@]}))
		row[i]=$(loop "${sides[i]#*=}")
	done
	echo "${row[*]}" >>"$tmp/rounds"
done
for ((i = 0; i < ${#sides[@]}; i++)); do
	label=${sides[i]%%=*}
	[ "$label" = bare ] && continue
	awk -v label="$label" -v c=$((i + 1)) '
		function sort(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } }
		function q(a, n, f) { return a[int((n - 1) * f + 1.5)] }
		{ w[NR] = $c; rb[NR] = $c / $1; re[NR] = $c / $2 }
		END { n = NR; sort(w, n); sort(rb, n); sort(re, n)
			printf "| %s | %.0f | %.3f | %.3f-%.3f |", label, q(w, n, .5), q(rb, n, .5), q(rb, n, .25), q(rb, n, .75)
			if (label == "empty") print " 1 | |"
			else printf " %.3f | %.3f-%.3f |\n", q(re, n, .5), q(re, n, .25), q(re, n, .75) }' "$tmp/rounds" >>"$out"
done
awk '{ print "round " NR ": " $0 }' "$tmp/rounds" >"$tmp/rounds.txt"
echo >>"$out"
echo "Bare, when each round's loop ran: median $(awk '{print $1}' "$tmp/rounds" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}') ms." >>"$out"
{
	echo
	echo "## Exec to \`main()\`"
	echo
	echo "\`$B/bench/startup 2000 LIB\`: 2,000 spawns alternating without and with LIB preloaded; medians."
	echo "\"empty\" is a library with one empty function: what preloading anything costs."
	echo
	echo "| build | without, µs | with, µs | extra, µs |"
	echo "|---|---:|---:|---:|"
} >>"$out"
make -s "$B/bench/startup" >/dev/null
for arg in "empty=$tmp/empty.so" "$@"; do
	label=${arg%%=*} lib=${arg#*=}
	"$B/bench/startup" 2000 "$lib" >"$tmp/spawns"
	for k in bare shim; do
		awk -v k=$k '$1 == k {print $2}' "$tmp/spawns" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
	done | paste -sd' ' | awk -v label="$label" '{printf "| %s | %.1f | %.1f | %+.1f |\n", label, $1, $2, $2 - $1}' >>"$out"
done
echo >>"$out"
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$out"
cat "$out"
