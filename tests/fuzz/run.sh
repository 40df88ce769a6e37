#!/bin/bash
# SPDX-License-Identifier: MIT
# Run each libFuzzer harness for a while, one after another (nice -n 10: the
# machine is shared); print executions, coverage and crashes per harness and
# update its row in bench/results/fuzz.md (rows of harnesses not run stay).
#   tests/fuzz/run.sh SECONDS NAME...      (make fuzz FUZZ_SECONDS=N)
#   FUZZ_RUNS=10000000 tests/fuzz/run.sh 0 NAME...   (a number of executions instead)
# Seeds come from tests/fuzz/corpus/NAME (read only); new inputs go to
# build/fuzz/corpus/NAME, crashes to build/fuzz/artifacts/NAME/.
# tests/fuzz/run.sh --minimise NAME...: the seeds and the inputs found,
# merged (-merge=1) into the smallest set with the same coverage, replace
# tests/fuzz/corpus/NAME.
set -u
cd "$(dirname "$0")/../.."
out=bench/results/fuzz.md

max_len() {
    case $1 in
    policy) echo 2048 ;;      # rules, options past the 1100-byte token limit
    config) echo 4096 ;;      # JSON rules; text is cut at 2 KiB inside
    env)    echo 12288 ;;     # resolv.conf is read up to 4 KiB: go past it
    mounts) echo 4096 ;;      # a mountinfo table of a few dozen lines
    log)    echo 4096 ;;      # the harness blows strings up itself
    report) echo 4096 ;;      # several lines, a docker entry cut in parts
    http)   echo 4096 ;;      # twice the 2 KiB request buffer
    *)      echo 4096 ;;
    esac
}

if [ "${1:-}" = --minimise ]; then
    shift
    for n in "$@"; do
        new=build/fuzz/min/$n
        rm -rf "$new" && mkdir -p "$new"
        nice -n 10 "build/fuzz/fuzz_$n" -merge=1 -max_len="$(max_len "$n")" "$new" \
            "tests/fuzz/corpus/$n" "build/fuzz/corpus/$n" >"build/fuzz/$n.merge.log" 2>&1 || exit 1
        rm -rf "tests/fuzz/corpus/$n" && cp -r "$new" "tests/fuzz/corpus/$n"
        echo "$n: $(ls "$new" | wc -l) inputs, $(du -sk "$new" | cut -f1) KiB"
    done
    exit 0
fi

secs=${1:-60}
shift
names=("$@")
runs=${FUZZ_RUNS:-}
declare -A row
# rows already in the table stay unless rerun
if [ -f "$out" ]; then
    while IFS= read -r l; do
        n=$(echo "$l" | sed -n 's/^| fuzz_\([a-z]*\) |.*/\1/p')
        [ -n "$n" ] && row[$n]=$l
    done <"$out"
fi

# the table is rewritten after each harness: a long run stopped halfway keeps its rows
write_table() {
    # hand-written notes below "## Findings" survive a rerun
    findings=""
    [ -f "$out" ] && findings=$(sed -n '/^## Findings/,$p' "$out")
    {
        echo "# Fuzzing results"
        echo
        echo "libFuzzer ($(clang --version | head -1)) with ASan and UBSan, $(nproc) cores"
        echo "shared with other work, harnesses run one after another under nice -n 10"
        echo "(\`make fuzz FUZZ_SECONDS=N\`, or \`FUZZ_RUNS=N tests/fuzz/run.sh 0 NAME...\`)."
        echo "cov and ft are libFuzzer's figures on its last line (edges covered,"
        echo "features).  Crashes: inputs saved in build/fuzz/artifacts/<name>/."
        echo
        echo "| harness | date | executions | seconds | exec/s | max_len | cov | ft | corpus | crashes |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
        for n in policy config report mounts http env log; do
            [ -n "${row[$n]:-}" ] && echo "${row[$n]}"
        done
        if [ -n "$findings" ]; then
            echo
            printf '%s\n' "$findings"
        fi
    } >"$out"
}

total_crashes=0
for n in "${names[@]}"; do
    bin=build/fuzz/fuzz_$n
    corpus=build/fuzz/corpus/$n
    art=build/fuzz/artifacts/$n/
    mkdir -p "$corpus" "$art"
    log=build/fuzz/$n.log
    len=$(max_len "$n")
    before=$(ls "$art" | wc -l)
    if [ -n "$runs" ]; then
        limit=(-runs="$runs")
        echo "== fuzz_$n: $runs executions, -max_len=$len"
    else
        limit=(-max_total_time="$secs")
        echo "== fuzz_$n: ${secs}s, -max_len=$len"
    fi
    start=$(date +%s)
    # -timeout: one input taking 10 s is a hang worth a report
    nice -n 10 "$bin" "${limit[@]}" -max_len="$len" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art" "$corpus" "tests/fuzz/corpus/$n" \
        >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs in.*/\1/p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    final=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$final" | grep -o 'cov: [0-9]*' | cut -d' ' -f2)
    ft=$(echo "$final" | grep -o 'ft: [0-9]*' | cut -d' ' -f2)
    # a slow-unit is a finding only if it is slow alone too: the machine is
    # shared, and an input that ran while the fuzzer was descheduled or
    # stopped is saved as slow; re-run alone, bounded by the same 10 s
    for f in $(ls "$art" | grep '^slow-unit-'); do
        if timeout 10 "$bin" "$art$f" >/dev/null 2>&1; then
            mkdir -p "build/fuzz/slow/$n" && mv "$art$f" "build/fuzz/slow/$n/"
            echo "   $f: slow only under load (runs alone in under 10 s): build/fuzz/slow/$n/"
        fi
    done
    after=$(ls "$art" | wc -l)
    crashes=$((after - before))
    arts=$(ls -t "$art" | head -$crashes | tr '\n' ' ')
    total_crashes=$((total_crashes + crashes))
    echo "   executions: ${execs:-0} in ${took}s (${speed:-?}/s), cov: ${cov:-?}, ft: ${ft:-?}, crashes: $crashes, exit: $rc"
    if [ "$crashes" -gt 0 ]; then
        echo "   artifacts: $arts"
        grep -m3 -E 'ERROR: |runtime error|fuzz check failed' "$log" | sed 's/^/   /'
    fi
    row[$n]="| fuzz_$n | $(date -u +%Y-%m-%d) | ${execs:-0} | $took | ${speed:-?} | $len | ${cov:-?} | ${ft:-?} | $(ls "$corpus" | wc -l) | $crashes |"
    write_table
done

echo "summary in $out"
sed -n "/^| harness/,/^$/p" "$out"
[ "$total_crashes" -eq 0 ]
