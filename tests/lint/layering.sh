#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The library's layering, checked (make lint; the nm part also runs in
# tests/integration/test_safety.sh):
#  1. nothing inside the library calls a name the library exports: no
#     object of $B/obj (sys, core, engine, wrap) nor of the core archive
#     has one of them undefined (a wrapped call is made through hu_real,
#     the kernel through sys/sysio.h).  The names: $B/exports.map, made
#     from shim/sys/calls.def.
#  2. includes go only downward: sys < core < engine < wrap; beside them
#     the command: supervise (hostup run's supervisor) may include engine,
#     core and sys, cli may include supervise, core and sys; nothing
#     includes cli or wrap from another folder; sys/real.h (hu_real exists
#     only in the library) is not for core or cli.  "hostup/..." is the
#     public API, for everyone.
# Usage: layering.sh [--nm | --includes] [BUILD_DIR]   (default: both, build)
# Fails naming each object and symbol, or each file and include.
set -u
cd "$(dirname "$0")/../.."
what=both
case ${1:-} in --nm) what=nm; shift ;; --includes) what=includes; shift ;; esac
B=${1:-${HU_BUILD:-build}}
bad=0

check_nm() {
	local map=$B/exports.map objs
	[[ -f $map ]] || { echo "layering: no $map (build the library first)" >&2; return 1; }
	# objects of sources that still exist (a removed file's may linger)
	objs=$(find "$B/obj" -name '*.o' 2>/dev/null | sort | while read -r o; do
		s=${o#"$B/obj/"}; [[ -f shim/${s%.o}.c ]] && echo "$o"; done)
	[[ -n $objs ]] || { echo "layering: no objects in $B/obj" >&2; return 1; }
	# nm -A: "file: symbol" or "archive:member: symbol"; versions cut off
	nm -u -A $objs "$B/libhostup-core.a" 2>/dev/null | awk '
		FNR == NR { if (match($0, /^ *[A-Za-z_0-9]+;/)) { s = substr($0, RSTART, RLENGTH); gsub(/[ ;]/, "", s); exported[s] = 1 } next }
		{ sym = $NF; sub(/@.*/, "", sym); obj = $1; sub(/:$/, "", obj)
		  if (sym in exported) { printf "layering: %s calls %s, a name the library exports (use hu_real.%s or sys/sysio.h)\n", obj, sym, sym; bad = 1 } }
		END { exit bad }' <(sed -n '/global:/,/local:/p' "$map") - || return 1
	echo "layering: no call from inside the library to an exported name ($(echo "$objs" | wc -l) objects + core archive)"
}

rank() { case $1 in sys) echo 0 ;; core) echo 1 ;; engine) echo 2 ;; wrap) echo 3 ;; cli) echo 9 ;; *) echo -1 ;; esac; }

# May a file in folder $1 include "$2"?  (The include's own folder: $3.)
allowed() {
	local from=$1 inc=$2 to=$3
	[[ $inc != */* || $to == hostup || $to == "$from" ]] && return 0
	[[ $inc == sys/real.h && ($from == core || $from == cli) ]] && return 1
	[[ $to == cli || $to == wrap ]] && return 1
	case $from in
	cli) [[ $to == supervise || $to == core || $to == sys ]]; return ;;
	supervise) [[ $to == engine || $to == core || $to == sys ]]; return ;;
	esac
	[[ $to == supervise ]] && return 1
	local rf rt
	rf=$(rank "$from") rt=$(rank "$to")
	((rf >= 0 && rt >= 0 && rt < rf))
}

check_includes() {
	local f from inc ok=1
	while IFS=: read -r f inc; do
		from=${f#shim/}
		from=${from%%/*}
		inc=${inc#*\"}
		inc=${inc%%\"*}
		if ! allowed "$from" "$inc" "${inc%%/*}"; then
			echo "layering: $f includes \"$inc\": $from may include only folders below it (sys < core < engine < wrap; supervise: engine, core, sys; cli: supervise, core, sys)"
			ok=0
		fi
	done < <(grep -H -o '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*"' shim/*/*.c shim/*/*.h shim/*/*.def shim/*/*.in 2>/dev/null |
		sed 's/:[[:space:]]*#[[:space:]]*include[[:space:]]*/:/')
	((ok)) || return 1
	echo "layering: includes run only downward"
}

[[ $what != includes ]] && { check_nm || bad=1; }
[[ $what != nm ]] && { check_includes || bad=1; }
exit $bad
