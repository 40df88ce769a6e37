#!/bin/bash
# SPDX-License-Identifier: MIT
# Real, unmodified programs against a target that is down for 4 s (ICMP
# host-unreachable), then one that never comes back:
#   - Java (Debian's OpenJDK): java.net.Socket with a connect timeout, and
#     java.net.http.HttpClient.  Both connect non-blocking and learn of the
#     failure through poll()/epoll and SO_ERROR, never through connect().
#   - psql (libpq) against a real PostgreSQL server.
#   - nginx as a reverse proxy: its worker connects to the upstream from an
#     edge-triggered epoll loop.
# Each program is run once without the library (it must fail with its own
# usual error, so the outage is real), once with it (it must complete, with
# retry records and one recovered), and once under a short policy against a
# target that stays down (its usual error again, records ending in gave_up).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_cmd nginx curl runuser

# Each program's part runs where it can; one that cannot is a skipped part.
# `java File.java` (single-file source launch) compiles in memory with the
# jdk.compiler module, which a JRE alone does not have.
HAVE_JAVA=1 HAVE_PG=1
if ! command -v java >/dev/null; then
	HAVE_JAVA=0; hu_skip "java Socket and HttpClient: needs java (a JDK)"
elif ! java --list-modules 2>/dev/null | grep -q '^jdk.compiler@'; then
	HAVE_JAVA=0; hu_skip "java Socket and HttpClient: needs a JDK (jdk.compiler) for java File.java"
fi
# Debian installs the server binaries per major version, off PATH.
PGBIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
for b in initdb postgres psql; do
	[[ -x $PGBIN/$b ]] || { HAVE_PG=0; hu_skip "psql: needs postgresql ($b)"; break; }
done
if ((HAVE_PG)) && ! id postgres >/dev/null 2>&1; then
	HAVE_PG=0; hu_skip "psql: needs the postgres user (package postgresql)"
fi

# Generous enough to ride out the 4 s outage; the backoff cap keeps the
# first try after the target returns within ~0.5 s of it.
POLICY="* attempts=30 backoff=100ms..500ms deadline=30s"
DEAD_DEADLINE_MS=3000
DEAD_POLICY="* attempts=3 backoff=100ms..200ms deadline=3s"
# One try the kernel makes on its own (the SYN retransmit after ~1 s) plus
# scheduling slack: what may pass beyond the deadline before the program
# hears the verdict.
ONE_TRY_MS=1500
JAVA_PORT=9000 HTTP_PORT=8080 PG_PORT=5432 NGINX_PORT=8088
URL=http://$IP_S:$HTTP_PORT$HU_HTTP_PATH

# Event of the last record in NAME.log.
last_event() { "$HU_PY" "$HU_RECORDS" "$HU_TMP/$1.log" --field event | tail -n 1; }

# The checks every recovered run shares: retries for EHOSTUNREACH only, then
# exactly one recovered, written by PROGRAM itself.
assert_recovered() { # NAME PROGRAM
	local counts
	counts=$(hu_counts "$1" --op connect)
	hu_assert_contains "$counts" "recovered=1 gave_up=0" "$1: one recovered record"
	hu_assert_ne "retry=0" "${counts%% *}" "$1: retry records written"
	hu_assert_eq EHOSTUNREACH "$(hu_field "$1" retry errno | sort -u)" "$1: retries were for EHOSTUNREACH"
	hu_assert_eq "$2" "$(hu_field "$1" recovered program)" "$1: the record names $2"
	hu_assert_eq recovered "$(last_event "$1")" "$1: records end in recovered"
}

# The checks every never-recovers run shares.  START_MS is what the program
# needs before its first connect (the JVM's start-up, say); CONNECTS is how
# many connects the program itself makes before it gives up (each one gets
# its own 3 tries under DEAD_POLICY).
assert_gave_up() { # NAME START_MS [CONNECTS]
	local n=${3:-1}
	hu_assert_eq "retry=$((2 * n)) recovered=0 gave_up=$n config_error=0" "$(hu_counts "$1" --op connect)" \
		"$1: 2 retries then gave_up, for each of the program's $n connect(s)"
	hu_assert_eq gave_up "$(last_event "$1")" "$1: records end in gave_up"
	hu_assert_lt "$HU_MS" $(($2 + n * (DEAD_DEADLINE_MS + ONE_TRY_MS))) \
		"$1: failed within deadline plus one try"
}

hu_net_setup

# ---- PostgreSQL: runs as the postgres user, which must reach its data dir
# inside $HU_TMP (mode 0700, root's).  Stopped with a fast shutdown before
# the harness's own cleanup: the harness would only TERM (a smart shutdown)
# and KILL after 2 s, which can leave shared memory behind.
PGDATA=$HU_TMP/pg
pg_stop() {
	local pid i
	[[ $HU__PID == "$BASHPID" && -s $PGDATA/postmaster.pid ]] || return 0
	pid=$(head -n 1 "$PGDATA/postmaster.pid")
	kill -INT "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	return 0
}
hu_at_exit pg_stop
chmod 0711 "$HU_TMP"

# ---- the programs' inputs
cat >"$HU_TMP/Line.java" <<'EOF'
// Connects with the plain java.net.Socket API and prints the server's line.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;

public class Line {
    public static void main(String[] args) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 30000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream()));
            System.out.println(in.readLine());
        }
    }
}
EOF
cat >"$HU_TMP/Get.java" <<'EOF'
// GETs a URL with java.net.http.HttpClient and prints "status body".
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

public class Get {
    public static void main(String[] args) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create(args[0])).timeout(Duration.ofSeconds(40)).build();
        HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
        System.out.println(r.statusCode() + " " + r.body().trim());
    }
}
EOF

hu_serve_tcp $JAVA_PORT
hu_serve_http $HTTP_PORT

if ((HAVE_JAVA)); then
# ============================================================ Java, Socket
# A healthy run first: proves the program works at all and measures the
# JVM's start-up (it compiles the source in memory), which the timing
# bounds below must allow for.
hu_run java "$HU_TMP/Line.java" "$IP_S" $JAVA_PORT
hu_assert_eq "$HU_HELLO" "$HU_OUT" "java Socket: healthy run"
jvm_ms=$HU_MS

hu_reject $JAVA_PORT
hu_run java "$HU_TMP/Line.java" "$IP_S" $JAVA_PORT
hu_assert_ne 0 "$HU_RC" "java Socket without hostup fails"
hu_assert_contains "$HU_ERR" "java.net.NoRouteToHostException: No route to host" \
	"java Socket without hostup: its usual exception"
((HU_MS > jvm_ms)) && jvm_ms=$HU_MS

# the outage outlasts the JVM's start (compiling the source, measured above
# in the healthy run) by 3 s, however loaded the machine is
hu_after "$(((jvm_ms + 3000) / 1000)).$(((jvm_ms + 3000) % 1000 / 100))" hu_unreject
hu_run_shim java_socket "$POLICY" java "$HU_TMP/Line.java" "$IP_S" $JAVA_PORT
hu_assert_eq 0 "$HU_RC" "java Socket with hostup survives an ICMP reject (its start + 3 s)"
hu_assert_eq "$HU_HELLO" "$HU_OUT" "java Socket with hostup: reply"
hu_assert_ge "$HU_MS" 3500 "java Socket: the outage really lasted"
assert_recovered java_socket java

hu_reject $JAVA_PORT
hu_run_shim java_socket_dead "$DEAD_POLICY" java "$HU_TMP/Line.java" "$IP_S" $JAVA_PORT
hu_assert_ne 0 "$HU_RC" "java Socket, never recovers: fails"
hu_assert_contains "$HU_ERR" "java.net.NoRouteToHostException: No route to host" \
	"java Socket, never recovers: its usual exception"
assert_gave_up java_socket_dead "$jvm_ms"
hu_unreject

# ======================================================== Java, HttpClient
# HttpClient connects a non-blocking SocketChannel from its selector thread
# (epoll), then finishConnect() asks poll(POLLOUT, 0) and SO_ERROR.
hu_run java "$HU_TMP/Get.java" "$URL"
hu_assert_eq "200 $HU_HTTP_BODY" "$HU_OUT" "java HttpClient: healthy run"
jvm_http_ms=$HU_MS

hu_reject $HTTP_PORT
hu_run java "$HU_TMP/Get.java" "$URL"
hu_assert_ne 0 "$HU_RC" "java HttpClient without hostup fails"
hu_assert_contains "$HU_ERR" "java.net.ConnectException: No route to host" \
	"java HttpClient without hostup: its usual exception"
((HU_MS > jvm_http_ms)) && jvm_http_ms=$HU_MS

hu_after "$(((jvm_http_ms + 3000) / 1000)).$(((jvm_http_ms + 3000) % 1000 / 100))" hu_unreject
hu_run_shim java_http "$POLICY" java "$HU_TMP/Get.java" "$URL"
hu_assert_eq 0 "$HU_RC" "java HttpClient with hostup survives an ICMP reject (its start + 3 s)"
hu_assert_eq "200 $HU_HTTP_BODY" "$HU_OUT" "java HttpClient with hostup: response"
hu_assert_ge "$HU_MS" 3500 "java HttpClient: the outage really lasted"
assert_recovered java_http java
# (its never-recovers case is at the end of this script, see there)
fi

# ================================================================ psql
if ((HAVE_PG)); then
# A throwaway cluster in $HU_TMP: trust auth from the test subnet, listening
# only on the server's address, in the server namespace.
{ mkdir -p "$PGDATA" && chown postgres: "$PGDATA" && chmod 0700 "$PGDATA"; } || hu_fail "pg data dir"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C \
	--no-sync >"$HU_TMP/initdb.out" 2>&1 || { cat "$HU_TMP/initdb.out" >&2; hu_fail "initdb"; }
echo "host all all 198.18.0.0/24 trust" >>"$PGDATA/pg_hba.conf"
hu_s runuser -u postgres -- "$PGBIN/postgres" -D "$PGDATA" -c listen_addresses="$IP_S" \
	-c port=$PG_PORT -c unix_socket_directories="$PGDATA" -c fsync=off \
	>>"$HU_TMP/postgres.out" 2>&1 &
hu__track $!
hu__wait_listen tcp $PG_PORT
# -X: no ~/.psqlrc; -w: never prompt for a password (trust needs none).
# PGCONNECT_TIMEOUT bounds a run that would otherwise hang; it is longer
# than the outage, so it is not what ends a retry.
PSQL=(env PGCONNECT_TIMEOUT=30 "$PGBIN/psql" -X -w -At -h "$IP_S" -p "$PG_PORT" -U postgres -c "select 1")
# the server may take a moment between listen() and accepting sessions
for ((i = 0; i < 50; i++)); do
	hu_run "${PSQL[@]}"
	[[ $HU_RC == 0 ]] && break
	sleep 0.2
done
hu_assert_eq 1 "$HU_OUT" "psql: healthy run"

hu_reject $PG_PORT
hu_run "${PSQL[@]}"
hu_assert_ne 0 "$HU_RC" "psql without hostup fails"
hu_assert_contains "$HU_ERR" "failed: No route to host" "psql without hostup: its usual error"

hu_after 4 hu_unreject
hu_run_shim psql "$POLICY" "${PSQL[@]}"
hu_assert_eq 0 "$HU_RC" "psql with hostup survives a 4 s ICMP reject"
hu_assert_eq 1 "$HU_OUT" "psql with hostup: select 1"
hu_assert_ge "$HU_MS" 3500 "psql: the outage really lasted"
assert_recovered psql psql

hu_reject $PG_PORT
hu_run_shim psql_dead "$DEAD_POLICY" "${PSQL[@]}"
hu_assert_ne 0 "$HU_RC" "psql, never recovers: fails"
hu_assert_contains "$HU_ERR" "failed: No route to host" "psql, never recovers: its usual error"
assert_gave_up psql_dead 0
hu_unreject
pg_stop
fi

# ================================================================ nginx
# nginx runs in the CLIENT namespace so its upstream connects go through the
# library; curl (without the library) asks it over loopback.
#  - The library is loaded and its policy read in the master at start-up,
#    and workers are forked from it, so they would inherit both; the `env`
#    directives still pass the variables on (nginx clears the environment
#    otherwise), as an nginx that re-executes itself would need them.
#  - Workers run as www-data, as Debian ships nginx; the library opens
#    HOSTUP_LOG in the worker, when it writes the first record, so the log
#    must be writable by www-data.
mkdir -p "$HU_TMP/nginx/tmp"
cat >"$HU_TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user www-data;
pid $HU_TMP/nginx/nginx.pid;
error_log $HU_TMP/nginx/error.log info;
env LD_PRELOAD;
env HOSTUP_POLICY;
env HOSTUP_LOG;
events { worker_connections 64; }
http {
    access_log $HU_TMP/nginx/access.log;
    client_body_temp_path $HU_TMP/nginx/tmp/body;
    proxy_temp_path $HU_TMP/nginx/tmp/proxy;
    fastcgi_temp_path $HU_TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $HU_TMP/nginx/tmp/uwsgi;
    scgi_temp_path $HU_TMP/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://$IP_S:$HTTP_PORT;
            proxy_connect_timeout 30s;
            proxy_read_timeout 30s;
        }
    }
}
EOF

NGINX_PID=
nginx_start() { # NAME [POLICY]: without POLICY, no library
	local i lib=()
	if [[ $# -gt 1 ]]; then
		: >"$HU_TMP/$1.log"
		chown www-data "$HU_TMP/$1.log"
		lib=(LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$2" HOSTUP_LOG="$HU_TMP/$1.log")
	fi
	: >"$HU_TMP/nginx/error.log"
	hu_c env "${lib[@]}" nginx -p "$HU_TMP/nginx" -c "$HU_TMP/nginx/nginx.conf" \
		-e "$HU_TMP/nginx/error.log" >>"$HU_TMP/nginx/stdout" 2>&1 &
	NGINX_PID=$!
	hu__track $NGINX_PID
	for ((i = 0; i < 50; i++)); do
		[[ -n $(hu_c ss -Hlnt "sport = :$NGINX_PORT") ]] && return 0
		sleep 0.1
	done
	hu_fail "nginx ($1) did not start (see $HU_TMP/nginx/error.log)"
}
nginx_stop() {
	local i
	[[ -n $NGINX_PID ]] && hu__kill "$NGINX_PID"
	NGINX_PID=
	# the next instance binds the same port
	for ((i = 0; i < 50; i++)); do
		[[ -z $(hu_c ss -Hlnt "sport = :$NGINX_PORT") ]] && return 0
		sleep 0.1
	done
	hu_fail "nginx did not stop"
}
# curl prints the body (which ends in a newline), then the status.
CURL=(curl -sS -m 40 -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT$HU_HTTP_PATH")

nginx_start nginx_plain
hu_run "${CURL[@]}"
hu_assert_eq "$HU_HTTP_BODY"$'\n'200 "$HU_OUT" "nginx: healthy run"
hu_reject $HTTP_PORT
hu_run "${CURL[@]}"
hu_assert_eq 502 "${HU_OUT##*$'\n'}" "nginx without hostup: 502 during the outage"
hu_assert_contains "$(<"$HU_TMP/nginx/error.log")" "(113: No route to host) while connecting to upstream" \
	"nginx without hostup: its usual error log line"
nginx_stop

nginx_start nginx "$POLICY"
hu_after 4 hu_unreject
hu_run "${CURL[@]}"
hu_assert_eq "$HU_HTTP_BODY"$'\n'200 "$HU_OUT" "nginx with hostup: 200 and the body after a 4 s ICMP reject"
hu_assert_ge "$HU_MS" 3500 "nginx: the outage really lasted"
# the library names the program as its title reads (nginx rewrites it):
# proof that the worker, not the master, made the connection
assert_recovered nginx "nginx: worker process"
nginx_stop

hu_reject $HTTP_PORT
nginx_start nginx_dead "$DEAD_POLICY"
hu_run "${CURL[@]}"
hu_assert_eq 502 "${HU_OUT##*$'\n'}" "nginx, never recovers: 502"
hu_assert_contains "$(<"$HU_TMP/nginx/error.log")" "(113: No route to host) while connecting to upstream" \
	"nginx, never recovers: its usual error log line"
assert_gave_up nginx_dead 0
nginx_stop
hu_unreject

# ======================================== Java HttpClient, never recovers
# Last on purpose, so a failure here leaves every other program proven.
# HttpClient's finishConnect() asks poll(POLLOUT, 0) once after the
# selector reports the event: the error the library owes (it read SO_ERROR
# itself while the socket is still in SYN_SENT) must show in that poll.
# HttpClient retries a failed connect once by itself (MultiExchange; off
# with -Djdk.httpclient.disableRetryConnect=true): two connects, each with
# its own records.
if ((HAVE_JAVA)); then
hu_reject $HTTP_PORT
hu_run_shim java_http_dead "$DEAD_POLICY" java "$HU_TMP/Get.java" "$URL"
hu_assert_ne 0 "$HU_RC" "java HttpClient, never recovers: fails"
hu_assert_contains "$HU_ERR" "java.net.ConnectException: No route to host" \
	"java HttpClient, never recovers: its usual exception"
assert_gave_up java_http_dead "$jvm_http_ms" 2
hu_unreject
fi

hu_done
