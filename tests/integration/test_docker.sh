#!/bin/bash
# SPDX-License-Identifier: MIT
# hostup in a real Docker engine (tests/docker/): a private dockerd, the
# unmodified Dockerfile and examples/Dockerfile built on an imported Debian
# 12 base, and the example app riding out what happens to its database in
# Docker, each scenario run with hostup and without:
#   before_db   the app starts before db exists
#   stop_start  db stopped for 5 s and started again
#   recreate    db removed and recreated with a new address (readdressed)
#   disconnect  db disconnected from the network for 7 s
#   compose     examples/compose.yaml: depends_on, db listening 5 s late
# Records are read from `docker logs`.  The Kubernetes manifest cannot run
# here: its YAML and fields are checked, and its init-container mechanism is
# run in Docker (a volume filled by the hostup-init image, preloaded from).
# Prints each scenario's time with and without hostup.  Everything it made
# is removed, the daemon stopped; the images stay cached in
# /var/tmp/hostup-docker.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_cmd dockerd docker-compose
. "$HU_ROOT/tests/docker/engine.sh"
. "$HU_ROOT/tests/docker/scenarios.sh"

hu_at_exit hu_docker_stop

hu_docker_start
hu_docker_images

# --- the hostup image: the library and the command, glibc and musl builds;
#     the static musl hostup even runs in it (FROM scratch)
files=$(hu_dk create --name hu-files hostup /x >/dev/null 2>&1 && hu_dk export hu-files | tar -t | grep -E 'libhostup.so$|bin/hostup$' | sort)
hu_dk rm -f hu-files >/dev/null
hu_assert_eq "usr/local/bin/hostup usr/local/lib/hostup/libhostup.so usr/local/musl/bin/hostup usr/local/musl/lib/hostup/libhostup.so" \
	"$(echo $files)" "hostup image holds the library and the command, glibc and musl"
out=$(hu_dk run --rm --network none --entrypoint /usr/local/musl/bin/hostup hostup policy --policy "db:5432 attempts=7" db:5432 2>&1)
hu_assert_contains "$out" "attempts" "the static musl hostup runs in the FROM scratch image"
hu_assert_contains "$(cat "$HU_TMP/build_hostup-example-app.log")" \
	'RUN out=$(LD_PRELOAD=/usr/local/lib/hostup/libhostup.so /bin/true 2>&1) && [ -z "$out" ]' \
	"the app image's build ran the load check"

# --- Kubernetes: the manifest parses and has what the recipe needs ...
k8s=$("$HU_PY" - "$HU_ROOT/examples/kubernetes.yaml" <<-'PY'
	import sys, yaml
	pod = yaml.safe_load(open(sys.argv[1]))
	assert pod["apiVersion"] == "v1" and pod["kind"] == "Pod" and pod["metadata"]["name"]
	spec = pod["spec"]
	vols = {v["name"]: v for v in spec["volumes"]}
	init, app = spec["initContainers"][0], spec["containers"][0]
	lib = "/usr/local/lib/hostup/libhostup.so"
	assert lib in init["command"], "the init container copies the library"
	mount = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
	assert "emptyDir" in vols[next(iter(mount))], "into an emptyDir"
	env = {e["name"]: e["value"] for e in app["env"]}
	amount = {m["name"]: m["mountPath"] for m in app["volumeMounts"]}
	assert env["LD_PRELOAD"].startswith(amount[next(iter(mount))] + "/"), "preloaded from that volume"
	assert "HOSTUP_POLICY" in env and all(c.get("image") for c in [init, app])
	print(env["LD_PRELOAD"], env["HOSTUP_POLICY"])
PY
) || hu_fail "examples/kubernetes.yaml"
hu_ok "kubernetes.yaml parses and has the init container, the emptyDir and the env"
policy=${k8s#* }
# ... and its mechanism works in Docker: the init image fills a volume, a
# plain Debian container preloads the library from it, with the policy
hu_dk volume create hu-lib >/dev/null
hu_dk run --rm --network none -v hu-lib:/hostup hostup-init || hu_fail "hostup-init did not copy"
out=$(hu_dk run --rm --network none -v hu-lib:/hostup:ro -e LD_PRELOAD=/hostup/libhostup.so -e HOSTUP_POLICY="$policy" \
	debian:bookworm-slim sh -c 'grep -c libhostup.so /proc/self/maps' 2>&1)
hu_assert_eq 1 "$(echo "$out" | grep -cx '[1-9][0-9]*')" "the library from the init container's volume is loaded ($out)"
hu_assert_eq "" "$(echo "$out" | grep -v '^[0-9]*$')" "no loader error and no config_error for the manifest's policy"

# --- the scenarios
hu_docker_network "$NET" "$SUBNET.0/24"
declare -A MS RC
SCENARIOS=${HU_DOCKER_SCENARIOS:-before_db stop_start recreate disconnect compose}
for sc in $SCENARIOS; do
	for mode in with without; do
		"sc_$sc" "$mode"
		MS[$sc.$mode]=$APP_MS RC[$sc.$mode]=$APP_RC
	done
done
sc_reset

# With hostup every scenario succeeds, with the records to show why ...
declare -A expect_layer REQUESTS=([before_db]=1 [stop_start]=16 [recreate]=16 [disconnect]=20 [compose]=1)
# (a try cut at timeout=2s while nobody answers ARP is a SYN without answer)
# (a db that is stopping or being removed refuses for a moment: service)
# (a request that looked db up just before the disconnect meets the address
# as it vanishes: a SYN without answer or no ARP, firewall or link)
expect_layer=([before_db]=dns [stop_start]='firewall|link|service' [recreate]='firewall|link|service' [disconnect]='dns|firewall|link' [compose]=service)
# ... and the layer a late db or a missing name is about must be among
# them (a disconnected db is met by its lookups or by its vanishing
# address, whichever the app reaches first)
declare -A must_layer=([before_db]=dns [compose]=service)
for sc in $SCENARIOS; do
	hu_assert_eq 0 "${RC[$sc.with]}" "$sc with hostup: the app succeeds"
	n=$(grep -c '^app: request [0-9]*: db-ok' "$HU_TMP/${sc}_with.log")
	hu_assert_eq "${REQUESTS[$sc]}" "$n" "$sc with hostup: every request answered"
	counts=$(hu_counts "${sc}_with")
	hu_assert_contains "$counts" "gave_up=0" "$sc with hostup: nothing given up"
	hu_assert_ne "retry=0" "${counts%% *}" "$sc with hostup: retries recorded"
	rec=$(sc_records "${sc}_with")
	echo "records $sc: layers ${rec%% |*}; env.dns $(cut -d'|' -f2 <<<"$rec"); readdressed ${rec##*| }"
	hu_assert_eq " docker-embedded " "$(cut -d'|' -f2 <<<"$rec")" "$sc: env.dns is docker-embedded in every diagnosis"
	[[ -n ${rec%% |*} ]] || hu_fail "$sc: no diagnosis"
	for layer in ${rec%% |*}; do
		[[ $layer =~ ^(${expect_layer[$sc]})$ ]] || hu_fail "$sc: diagnosis layer '$layer', expected ${expect_layer[$sc]}"
	done
	if [[ -n ${must_layer[$sc]:-} && " ${rec%% |*} " != *" ${must_layer[$sc]} "* ]]; then
		hu_fail "$sc: no diagnosis with layer ${must_layer[$sc]} among '${rec%% |*}'"
	fi
	hu_ok "$sc: diagnosis layer ${rec%% |*}"
	# hostup report gives the same figures from docker's json-file log as
	# from `docker logs` output
	[[ -s $HU_TMP/${sc}_with.json.log ]] || hu_fail "$sc: no json-file log kept"
	plain=$("$HU_BUILD/hostup" report --json "$HU_TMP/${sc}_with.log") || hu_fail "report on docker logs"
	jf=$("$HU_BUILD/hostup" report --json "$HU_TMP/${sc}_with.json.log") || hu_fail "report on json-file"
	hu_assert_contains "$plain" '"retries"' "$sc: hostup report finds the records in docker logs output"
	hu_assert_eq "$plain" "$jf" "$sc: hostup report on the json-file log = on docker logs output"
done
# ... and without it the app fails, with the error the issue describes.
# A stopping or removed db refuses for a moment, so there the error is
# ECONNREFUSED or the app's own 10 s connect timeout, as it happens; and a
# 5 s stop may even be ridden out by the kernel's own SYN retransmission
# (at 1, 3 and 7 s, while db's neighbour entry is fresh): then the request
# that met the stop waited it out.
declare -A without=([before_db]="Temporary failure in name resolution"
	[stop_start]="ConnectionRefusedError|TimeoutError|No route to host"
	[recreate]="ConnectionRefusedError|TimeoutError|No route to host"
	[disconnect]="Temporary failure in name resolution" [compose]="Connection refused")
for sc in $SCENARIOS; do
	log=$HU_TMP/${sc}_without.log
	slow=$(sed -n 's/^app: request [0-9]*: db-ok in \([0-9]*\)\..*/\1/p' "$log" | sort -n | tail -1)
	if [[ $sc == stop_start && ${RC[$sc.without]} == 0 ]]; then
		hu_assert_ge "$slow" 4 "$sc without hostup: the app got through, one request waited out the stop"
	else
		hu_assert_ne 0 "${RC[$sc.without]}" "$sc without hostup: the app fails"
		grep -qE "${without[$sc]}" "$log" || hu_fail "$sc without hostup: no '${without[$sc]}' in its logs"
		hu_ok "$sc without hostup: $(grep -oE "${without[$sc]}" "$log" | head -1)"
	fi
	[[ $sc == recreate ]] || continue
	rec=$(sc_records recreate_with)
	hu_assert_contains "${rec##*| }" "$SUBNET.10->$SUBNET.11" "recreate: readdressed from the old to the new address"
	# the move is found once, then remembered: every later request goes to
	# the new address at once (no cut try at the old one first), and the
	# first connection there is made within 5 s of db listening at it
	moves=$(grep -c '"event":"readdressed"' "$HU_TMP/recreate_with.log")
	remembered=$(grep '"event":"readdressed"' "$HU_TMP/recreate_with.log" | grep -c '"remembered":true')
	hu_assert_eq "1 1" "$((moves - remembered)) $remembered" "recreate: one readdress found by a failure, one remembered record"
	lag=$("$HU_PY" - "$HU_TMP/recreate_with.db.log" "$HU_TMP/recreate_with.log" "$SUBNET.11" <<-'PY'
		import datetime, json, re, sys
		def at(s):  # RFC 3339 with up to 9 fraction digits -> seconds
		    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", s)
		    t = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
		    return t.timestamp() + float("0." + (m.group(2) or "0"))
		listen = [at(l.split()[0]) for l in open(sys.argv[1]) if "db: listening" in l]
		recs = [json.loads(l[l.index("{"):]) for l in open(sys.argv[2]) if '"event":"' in l]
		moved = [at(r["time"]) for r in recs if r["event"] == "recovered" and r.get("addr") == sys.argv[3]]
		print(int((min(moved) - listen[0]) * 1000) if listen and moved else "none")
	PY
	)
	echo "recreate: first connection at db's new address ${lag} ms after it listened"
	hu_assert_le "$lag" 5000 "recreate: connected at the new address within 5 s of db listening there"
done

echo "time from docker run to the app's end (exit status):"
printf '  %-11s  %17s  %17s\n' scenario "with hostup" "without"
for sc in $SCENARIOS; do
	printf '  %-11s  %9.1f s (rc %s)  %9.1f s (rc %s)\n' "$sc" \
		"$(awk -v m="${MS[$sc.with]}" 'BEGIN{print m/1000}')" "${RC[$sc.with]}" \
		"$(awk -v m="${MS[$sc.without]}" 'BEGIN{print m/1000}')" "${RC[$sc.without]}"
done
echo "a docker logs excerpt (recreate, with hostup):"
grep -E '"event":"(readdressed|recovered)"|^app:' "$HU_TMP/recreate_with.log" | head -n 6 | cut -c1-400
hu_done
