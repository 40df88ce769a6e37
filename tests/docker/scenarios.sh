# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The Docker scenarios: the example app (examples/Dockerfile, hostup copied
# in with COPY --from=hostup) against the database stand-in (db.py) on an
# internal network, each run with hostup and without (LD_PRELOAD emptied).
# Source after engine.sh.  Each sc_* function takes with|without, runs one
# scenario and leaves APP_RC (the app's exit status), APP_MS (from
# `docker run` to its end) and the app's `docker logs` in $HU_TMP/NAME.log.
# Times of events are counted from the app's start.

NET=hu-net SUBNET=198.19.1
DB_IMAGE=hostup-test-db APP_IMAGE=hostup-example-app

sc_reset() { hu_dk rm -f hu-app hu-db >/dev/null 2>&1; return 0; }

db_run() { # [IP] [db.py ARGS]: the database, known as "db" on $NET
	local ip=${1:-}
	shift
	hu_dk run -d --name hu-db --network "$NET" --network-alias db ${ip:+--ip "$ip"} \
		"$DB_IMAGE" python3 /db.py "$@" >/dev/null || hu_fail "docker run db"
}

db_wait_listening() {
	local i
	for ((i = 0; i < 100; i++)); do
		hu_dk logs hu-db 2>&1 | grep -q '^db: listening' && return 0
		sleep 0.1
	done
	hu_fail "db did not listen"
}

# CONTAINER NAME: its `docker logs` in $HU_TMP/NAME.log, and docker's own
# json-file log of it, as `hostup report` reads it on the host, in NAME.json.log
keep_logs() {
	local lp
	hu_dk logs "$1" >"$HU_TMP/$2.log" 2>&1
	lp=$(hu_dk inspect -f '{{.LogPath}}' "$1" 2>/dev/null)
	[[ -n $lp && -f $lp ]] && cp "$lp" "$HU_TMP/$2.json.log"
	return 0
}

APP_T0=0
app_start() { # with|without ENV=VALUE...
	local mode=$1 e args=()
	shift
	[[ $mode == without ]] && args+=(-e LD_PRELOAD=)
	for e in "$@"; do args+=(-e "$e"); done
	APP_T0=${EPOCHREALTIME/[.,]/}
	hu_dk run -d --name hu-app --network "$NET" "${args[@]}" "$APP_IMAGE" >/dev/null ||
		hu_fail "docker run app"
}

app_finish() { # NAME: wait for the app (at most 120 s), keep its logs
	APP_RC=$(timeout 120 "$HU_DOCKER" wait hu-app) || hu_fail "$1: the app did not end within 120 s"
	APP_MS=$(((${EPOCHREALTIME/[.,]/} - APP_T0) / 1000))
	keep_logs hu-app "$1"
	[[ ${#LATER[@]} -gt 0 ]] && hu_wait 60 "$1: the scenario's background steps" "${LATER[@]}"
	LATER=()
	printf 'scenario %s: exit %s after %s ms\n' "$1" "$APP_RC" "$APP_MS"
}

LATER=()
later() { # SECONDS CMD...: in the background, SECONDS after the app started
	( sleep "$1"; shift; "$@" >>"$HU_TMP/steps.log" 2>&1 ) &
	LATER+=($!)
}

# The app looks db up before db exists; db starts 6 s later (after glibc's
# second query at 5 s, so without hostup the lookup fails at 10 s).
sc_before_db() {
	sc_reset
	app_start "$1" REQUESTS=1
	later 6 db_run
	app_finish "before_db_$1"
}

# db is stopped for 5 s and started again while the app, which resolved it
# once, sends a request every 0.5 s.
sc_stop_start() {
	sc_reset
	db_run "$SUBNET.10"
	db_wait_listening
	app_start "$1" RESOLVE=once REQUESTS=16
	later 2 sh -c "$HU_DOCKER stop -t 1 hu-db; sleep 5; $HU_DOCKER start hu-db"
	app_finish "stop_start_$1"
}

# db is removed and created again with a new address while the app, which
# resolved it once, is retrying.
sc_recreate() {
	sc_reset
	db_run "$SUBNET.10"
	db_wait_listening
	app_start "$1" RESOLVE=once REQUESTS=16
	later 2 sh -c "$HU_DOCKER rm -f hu-db; sleep 3; $HU_DOCKER run -d --name hu-db --network $NET \
		--network-alias db --ip $SUBNET.11 $DB_IMAGE"
	app_finish "recreate_$1"
	# when the new db listened (the time hostup's moved-host memory is measured from)
	hu_dk logs --timestamps hu-db >"$HU_TMP/recreate_$1.db.log" 2>&1
}

# db is disconnected from the network for 7 s and connected again, while
# the app looks it up for every request.
sc_disconnect() {
	sc_reset
	db_run "$SUBNET.10"
	db_wait_listening
	app_start "$1" REQUESTS=20
	later 2 sh -c "$HU_DOCKER network disconnect $NET hu-db; sleep 7; \
		$HU_DOCKER network connect --alias db --ip $SUBNET.10 $NET hu-db"
	app_finish "disconnect_$1"
}

# examples/compose.yaml: depends_on without a healthcheck, db listening 5 s
# after its container starts (tests/docker/compose.test.yaml).
sc_compose() {
	local name=compose_$1 pre
	[[ $1 == without ]] && pre= || pre=/usr/local/lib/hostup/libhostup.so
	compose() {
		HU_LD_PRELOAD=$pre docker-compose -p hutest -f "$HU_ROOT/examples/compose.yaml" \
			-f "$HU_ROOT/tests/docker/compose.test.yaml" "$@"
	}
	compose down -v >/dev/null 2>&1
	APP_T0=${EPOCHREALTIME/[.,]/}
	compose up -d --no-build >"$HU_TMP/$name.up.log" 2>&1 || { cat "$HU_TMP/$name.up.log" >&2; hu_fail "compose up"; }
	HU_DOCKER_BRIDGES+=("br-$(hu_dk network inspect -f '{{.Id}}' hutest_default | cut -c1-12)")
	APP_RC=$(timeout 120 "$HU_DOCKER" wait hutest_app_1) || hu_fail "compose: the app did not end within 120 s"
	APP_MS=$(((${EPOCHREALTIME/[.,]/} - APP_T0) / 1000))
	keep_logs hutest_app_1 "$name"
	compose down -v >/dev/null 2>&1
	printf 'scenario %s: exit %s after %s ms\n' "$name" "$APP_RC" "$APP_MS"
}

# The records of a run with hostup, from `docker logs`: every line that is
# a record is valid (records.py), every diagnosis has a layer and says the
# resolver is Docker's embedded DNS.  Prints "LAYERS | DNS | READDRESSED".
sc_records() { # NAME
	"$HU_PY" "$HU_ROOT/tests/integration/records.py" "$HU_TMP/$1.log" >/dev/null ||
		hu_fail "$1: records in docker logs are not valid"
	"$HU_PY" - "$HU_TMP/$1.log" <<-'PY'
		import json, sys
		layers, dns, moved = set(), set(), []
		for line in open(sys.argv[1], encoding="utf-8"):
		    if not line.startswith("{"):
		        continue
		    r = json.loads(line)
		    d = r.get("diagnosis")
		    if d:
		        layers.add(d["layer"])
		        dns.add(str(d["evidence"].get("env", {}).get("dns")))
		    if r["event"] == "readdressed":
		        moved.append(r["old_addr"] + "->" + r["addr"])
		print(" ".join(sorted(layers)), "|", " ".join(sorted(dns)), "|", " ".join(moved))
	PY
}
