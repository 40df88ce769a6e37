#!/bin/bash
# SPDX-License-Identifier: MIT
# hostup run's supervisor as a container's PID 1 (ENTRYPOINT), in the
# project's private Docker engine, under Docker's default seccomp profile
# and capabilities (pidfd_getfd is refused there: the ADDFD way; so is
# process_vm_readv under Docker 20.10's profile: /proc/PID/mem):
#   - the static C client (hu_connect built -static) and the Go client
#     (CGO_ENABLED=0) each fail without hostup while the db container
#     rejects their SYNs (an nftables reject, ICMP host-unreachable, in
#     db's network namespace), and connect under `hostup run` once the
#     reject is lifted 3 s later, with records in `docker logs`;
#   - docker stop: SIGTERM reaches the program, its exit status is the
#     container's; a program's handler sees it too;
#   - zombies: an orphan is reaped by hostup as PID 1 (and stays a zombie
#     under a PID 1 that does not reap, for contrast).
# This test has an engine of its own (data root /var/tmp/hostup-docker-sv,
# networks from 198.19.200.0/21), so it can run beside test_docker.sh.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_root
hu_need_cmd dockerd go nft nsenter
HOSTUP_DOCKER_DIR=${HOSTUP_DOCKER_SV_DIR:-/var/tmp/hostup-docker-sv}
HU_DOCKER_POOL=198.19.200.0/21
. "$HU_ROOT/tests/docker/engine.sh"
hu_need_tools hu_connect_static
[[ -x $HU_BUILD/hostup && -f $HU_LIB ]] || hu_fail "missing $HU_BUILD/hostup or $HU_LIB (build them first)"

hu_at_exit hu_docker_stop
hu_docker_start
hu_docker_base

# --- the image: hostup (and its library) with the two clients, hostup run
#     as ENTRYPOINT; no capability or security option added anywhere
ctx=$HU_TMP/ctx
mkdir -p "$ctx"
cp "$HU_BUILD/hostup" "$HU_LIB" "$ctx/" || hu_fail "copy into the build context"
cp "$HU_TOOLS/hu_connect_static" "$ctx/hu_connect" || hu_fail "copy into the build context"
bash "$HU_ROOT/tests/tools/go/build.sh" "$ctx/hu_goclient" || hu_fail "go build of hu_goclient"
cat >"$ctx/Dockerfile" <<-'EOF'
	FROM debian:bookworm-slim
	COPY hostup hu_connect hu_goclient /usr/local/bin/
	COPY libhostup.so /usr/local/lib/hostup/
	ENTRYPOINT ["/usr/local/bin/hostup", "run", "--verbose", "--"]
EOF
hu__build hostup-sv "$ctx"
IMG=hostup-sv NET=hu-sv DB=198.19.200.10 PORT=7000
hu_docker_network $NET 198.19.200.0/24
# dk_run ARGS...: a container on $NET, bounded, removed after
dk_run() { timeout -k 5 60 "$HU_DOCKER" run --rm --network $NET "$@"; }

# the profile and capabilities the program runs with: Docker's defaults
st=$(dk_run --entrypoint sh $IMG -c 'grep -E "^(Seccomp|CapEff):" /proc/self/status')
hu_assert_contains "$st" "Seccomp:	2" "the container runs under a seccomp filter (Docker's default profile)"
capeff=$(awk '/^CapEff:/ {print $2}' <<<"$st")
hu_assert_eq 0 $(((16#$capeff >> 19) & 1)) "no CAP_SYS_PTRACE (19) in the container ($capeff)"

# --- the db: the Go client's server, and a reject in its namespace
"$HU_DOCKER" run -d --name hu-sv-db --network $NET --ip $DB --entrypoint /usr/local/bin/hu_goclient \
	$IMG serve :$PORT >/dev/null || hu_fail "docker run db"
DB_PID=$("$HU_DOCKER" inspect -f '{{.State.Pid}}' hu-sv-db)
[[ $DB_PID -gt 0 ]] || hu_fail "db has no pid"
in_db() { nsenter -t "$DB_PID" -n "$@"; }
reject() {
	if ! { in_db nft add table inet husv && in_db nft add chain inet husv input '{ type filter hook input priority 0; }' &&
		in_db nft add rule inet husv input tcp dport $PORT reject with icmp type host-unreachable; }; then
		hu_fail "reject in db's namespace"
	fi
}
unreject() { in_db nft delete table inet husv; }
out=$(dk_run --entrypoint /usr/local/bin/hu_connect $IMG $DB $PORT 2>/dev/null)
hu_assert_eq "hello from hu_goclient" "$out" "db answers while nothing is rejected"

# --- without hostup: both fail at once
reject
out=$(dk_run --entrypoint /usr/local/bin/hu_connect $IMG $DB $PORT 2>/dev/null)
hu_assert_eq "error EHOSTUNREACH rc=1" "$out rc=$?" "static C client without hostup: fails"
out=$(dk_run --entrypoint /usr/local/bin/hu_goclient $IMG tcp $DB:$PORT 2>/dev/null)
rc=$?
hu_assert_contains "$out" "connect: no route to host" "Go client without hostup: fails"
hu_assert_eq 1 $rc "Go client without hostup: exit 1"

# --- under hostup run (the ENTRYPOINT): both ride out a 3 s reject
POLICY="* attempts=60 backoff=100ms..500ms deadline=30s"
for c in c go; do
	if [[ $c == c ]]; then prog=(hu_connect "$DB" "$PORT"); else prog=(hu_goclient tcp "$DB:$PORT"); fi
	reject
	hu_after 3 unreject
	t0=${EPOCHREALTIME/[.,]/}
	dk_run -e HOSTUP_POLICY="$POLICY" $IMG "${prog[@]}" >"$HU_TMP/$c.out" 2>"$HU_TMP/$c.err"
	rc=$? ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
	hu_assert_eq "0 hello from hu_goclient" "$rc $(cat "$HU_TMP/$c.out")" "$c under hostup run as PID 1: connected after the reject ($ms ms)"
	hu_assert_ge $ms 2500 "$c: it waited the reject out"
	err=$(cat "$HU_TMP/$c.err")
	hu_assert_contains "$err" "supervised (" "$c: the supervisor was chosen"
	hu_assert_contains "$err" "pidfd_getfd is refused here" "$c: the ADDFD way, under Docker's default profile"
	hu_assert_contains "$err" "process_vm_readv is refused here" "$c: addresses read from /proc/PID/mem (Docker 20.10's profile)"
	hu_assert_contains "$(grep -m1 '"event":"retry"' <<<"$err")" '"errno":"EHOSTUNREACH"' "$c: retry records, the kernel's errno"
	rec=$(grep '"event":"recovered"' <<<"$err")
	hu_assert_contains "$rec" '"supervised":true' "$c: a recovered record, supervised"
	hu_assert_contains "$rec" "\"program\":\"${prog[0]}\"" "$c: the record names the program"
	sleep 0.3
done
hu_assert_contains "$(cat "$HU_TMP/c.err")" "supervised (statically linked)" "C: chosen as a static program"
hu_assert_contains "$(cat "$HU_TMP/go.err")" "supervised (a Go program)" "Go: chosen as a Go program"

# --- docker stop: SIGTERM to PID 1 reaches the program, its status is the
#     container's (143 = killed by SIGTERM, not docker's SIGKILL: 137)
stop_test() { # NAME WHAT EXPECTED_CODE RUN_ARGS...
	local name=$1 what=$2 code=$3 t0 ms
	shift 3
	"$HU_DOCKER" run -d --name "$name" --network $NET "$@" >/dev/null || hu_fail "docker run $name"
	sleep 1
	t0=${EPOCHREALTIME/[.,]/}
	timeout 30 "$HU_DOCKER" stop -t 10 "$name" >/dev/null || hu_fail "docker stop $name"
	ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
	hu_assert_eq "$code" "$("$HU_DOCKER" inspect -f '{{.State.ExitCode}}' "$name")" "docker stop, $what: exit status"
	hu_assert_lt $ms 5000 "docker stop, $what: ended by the SIGTERM, not the SIGKILL 10 s later"
	"$HU_DOCKER" logs "$name" >"$HU_TMP/$name.log" 2>&1
	"$HU_DOCKER" rm -f "$name" >/dev/null
}
stop_test hu-sv-go "the Go program" 143 $IMG hu_goclient sleep 60
stop_test hu-sv-sh "a shell with a TERM handler" 3 --entrypoint /usr/local/bin/hostup $IMG \
	run --supervise -- sh -c 'trap "echo got TERM; exit 3" TERM; sleep 60 & wait'
hu_assert_contains "$(cat "$HU_TMP/hu-sv-sh.log")" "got TERM" "the program's handler ran"

# --- zombies: an orphan, reparented to PID 1, reaped by hostup
zombies() { # RUN_ARGS...: the zombies in the container 1.5 s after it started
	# (each one's stat line, and every process's, kept in zombies.txt: a
	# failure says which processes they were and whose children)
	"$HU_DOCKER" run -d --name hu-sv-z --network $NET "$@" >/dev/null || hu_fail "docker run hu-sv-z"
	sleep 1.5
	"$HU_DOCKER" exec hu-sv-z sh -c "cat /proc/[0-9]*/stat 2>/dev/null" >"$HU_TMP/zombies.txt"
	awk '$3 == "Z"' "$HU_TMP/zombies.txt" | wc -l
	"$HU_DOCKER" rm -f hu-sv-z >/dev/null
}
ORPHAN='(sleep 0.3 &); exec /usr/local/bin/hu_goclient sleep 30'
hu_assert_eq 1 "$(zombies --entrypoint sh $IMG -c "$ORPHAN")" \
	"contrast: under a PID 1 that does not reap (the Go program), the orphan stays a zombie"
n=$(zombies --entrypoint /usr/local/bin/hostup $IMG run --supervise -- sh -c "$ORPHAN")
hu_assert_eq 0 "$n" "hostup run as PID 1: the orphan is reaped (processes: $(awk '{printf "%s %s %s ppid %s; ", $1, $2, $3, $4}' "$HU_TMP/zombies.txt"))"
hu_done
