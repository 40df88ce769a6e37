#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: a real client survives a host that is down for a few seconds.
# Two throw-away network namespaces; the server's port answers ICMP
# host-unreachable for 5 s; python3 fetches a page under hostup and gets it,
# then the same request without hostup fails.  Everything is removed after.
set -u
if [ "$(id -u)" -ne 0 ]; then
	echo "hostup demo: needs root (it creates network namespaces); run: sudo make demo" >&2
	exit 1
fi
. "$(dirname "$0")/integration/lib.sh"
hu_need_lib
P=8080
OUTAGE=5
URL="http://$IP_S:$P$HU_HTTP_PATH"
FETCH="import urllib.request, sys
print(urllib.request.urlopen('$URL').read().decode().strip())"
POLICY="$IP_S:$P attempts=20 deadline=30s backoff=200ms..2s"
bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }

# One line per record as it happens: event, try, errno, wait, diagnosis.
SUMMARY='import json, sys
for line in sys.stdin:
    try: r = json.loads(line)
    except ValueError: print("  " + line, end=""); continue
    d = r.get("diagnosis") or {}
    print("  %-9s try %s/%s  %-12s %s %s" % (r["event"], r.get("attempt"), r.get("attempts"),
          r.get("errno", ""), ("wait %sms" % r["delay_ms"]) if "delay_ms" in r else "         ",
          ("[" + d["layer"] + "] " + d["cause"]) if d else "(after %s ms)" % r.get("elapsed_ms")), flush=True)
    if d: last = line
open(sys.argv[1], "w").write(last)'

hu_net_setup
hu_serve_http $P
bold "== hostup demo: client $IP_C (namespace $NS_C, no default route), server $URL"
bold "== the server's port answers ICMP host-unreachable for ${OUTAGE} s"
hu_reject $P
hu_after "$OUTAGE" hu_unreject
bold "== python3 urllib under hostup (HOSTUP_POLICY=\"$POLICY\"), records as they happen:"
t0=$(date +%s%N)
exec 3>&1   # the record summary goes to the terminal, not into $out
out=$(ip netns exec "$NS_C" env LD_PRELOAD="$HU_LIB" HOSTUP_POLICY="$POLICY" \
	"$HU_PY" -c "$FETCH" 2> >("$HU_PY" -u -c "$SUMMARY" "$HU_TMP/last.json" >&3))
rc=$?
sleep 0.2
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc -eq 0 ]; then
	bold "== with hostup: the request succeeded after ${ms} ms: \"$out\""
else
	bold "== with hostup: the request FAILED (exit $rc)"
fi
echo "   the last retry record in full:"
sed 's/^/   /' "$HU_TMP/last.json"

bold "== the same request without hostup, during the same kind of outage:"
hu_reject $P
ip netns exec "$NS_C" "$HU_PY" -c "$FETCH" 2>&1 | tail -n 1 | sed 's/^/   /'
rc2=${PIPESTATUS[0]}
hu_unreject
if [ $rc2 -ne 0 ]; then
	bold "== without hostup: the request failed (exit $rc2)"
else
	bold "== without hostup: the request unexpectedly succeeded"
fi
hu_cleanup
bold "== cleaned up: namespaces $NS_C and $NS_S removed"
[ $rc -eq 0 ] && [ $rc2 -ne 0 ]
