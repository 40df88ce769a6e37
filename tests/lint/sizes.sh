#!/bin/bash
# SPDX-License-Identifier: MIT
# Sizes a newcomer can hold: fails naming every source file in shim/ over
# MAX_FILE lines and every function over MAX_FUNC lines (from the line that
# names it to its closing brace).  Entries of ALLOW, with the size measured
# when they were listed, are printed as "pending" instead: they are being
# split elsewhere, and the list is to shrink to nothing.  An allowed entry
# that grows past its measured size fails too.
# Usage: tests/lint/sizes.sh [ROOT]   (ROOT: the checkout, default: here)
set -u
cd "${1:-$(dirname "$0")/../..}" || exit 2
MAX_FILE=600
MAX_FUNC=80

# file:function or file, and the size measured when listed: files others
# were splitting when this check came in.  Take an entry out once its file
# or function is within the limit (the check says so); the list is to be
# empty.
ALLOW='
'

# "lines<TAB>file" for every file, "lines<TAB>file:function" for every function
shopt -s nullglob
sources=(shim/*/*.c)
measure() {
    for f in "${sources[@]}" shim/*/*.h; do
        printf '%s\t%s\n' "$(wc -l < "$f")" "$f"
    done
    [ "${#sources[@]}" -gt 0 ] || return 0
    # The code's style: a definition opens with its name in column 0 and its
    # body with "{" alone in column 0; it ends with "}" in column 0.
    awk '
        FNR == 1 { pending = 0; infn = 0 }
        infn {
            if ($0 ~ /^}/) { printf "%d\t%s:%s\n", FNR - start + 1, FILENAME, name; infn = 0; pending = 0 }
            next
        }
        /^[A-Za-z_]/ && !pending { pending = 1; start = FNR; sig = "" }
        pending { sig = sig " " $0 }
        pending && /^\{/ {
            s = sig
            while (match(s, /__attribute__[ ]*\(\(([^()]|\([^()]*\))*\)\)/))
                s = substr(s, 1, RSTART - 1) substr(s, RSTART + RLENGTH)
            if (match(s, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
                name = substr(s, RSTART, RLENGTH); sub(/[ \t]*\($/, "", name)
                infn = 1
            } else
                pending = 0
            next
        }
        pending && /[;}][ \t]*(\/\*.*)?$/ { pending = 0 }
    ' "${sources[@]}"
}

fail=0
measured=$(measure)
declare -A allow
while read -r what n; do
    [ -z "$what" ] && continue
    allow[$what]=$n
    printf '%s\n' "$measured" | cut -f2 | grep -qxF "$what" ||
        echo "sizes: $what is gone: take it off the allow-list in $0"
done <<< "$ALLOW"
while IFS=$'\t' read -r n what; do
    [ -n "$what" ] || continue
    case "$what" in *:*) max=$MAX_FUNC kind=function ;; *) max=$MAX_FILE kind=file ;; esac
    allowed=${allow[$what]:-}
    if [ -n "$allowed" ]; then
        if [ "$n" -gt "$allowed" ] && [ "$n" -gt "$max" ]; then
            echo "sizes: $kind $what: $n lines, grew past the $allowed it was allowed while pending (limit $max)"
            fail=1
        elif [ "$n" -gt "$max" ]; then
            echo "sizes: pending: $kind $what: $n lines (limit $max)"
        else
            echo "sizes: $kind $what is within $max lines now: take it off the allow-list in $0"
        fi
    elif [ "$n" -gt "$max" ]; then
        echo "sizes: $kind $what: $n lines, over $max"
        fail=1
    fi
done <<< "$measured"
[ "$fail" = 0 ] && echo "sizes: no file over $MAX_FILE lines, no function over $MAX_FUNC (beyond the pending ones)"
exit "$fail"
