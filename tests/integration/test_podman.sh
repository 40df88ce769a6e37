#!/bin/bash
# SPDX-License-Identifier: MIT
# The Kubernetes recipe (examples/kubernetes.yaml) run for real with
# `podman kube play` (Debian's podman 4.3): the init container copies the
# library into the emptyDir, the app container preloads it from there, and a
# database sidecar that listens 6 s late (on localhost, named db through
# hostAliases) is ridden out.  Checks: the init container ran once, before
# the app; the emptyDir is mounted read-only; the app's requests all
# succeed, with valid records that name the container "podman"; nothing
# restarts; the same pod without hostup fails with ECONNREFUSED.
#
# Podman here: its own storage, run and tmp directories under $HU_TMP, its
# own containers.conf (CONTAINERS_CONF: ulimits runc can set in this
# container, cgroupfs, events to a file, networks defined under $HU_TMP), and
# every podman command in the test's client network namespace (nsenter
# --net), where the pod's network (198.18.5.0/24, no DNS) is a bridge of
# its own, with no route out; podman's default network (10.88.0.0/16) is
# never used.  Images: a Debian 11 root (tests/rootfs.sh bullseye, python3)
# is imported, and the init, app and db images are built on it with COPY
# alone; they carry the manifest's image names, so the manifest is played
# as written, with only the sidecar, hostAliases and REQUESTS added.
# Afterwards every pod, container, volume and network is removed.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
if ! command -v podman >/dev/null || { ! [[ -x /usr/libexec/podman/catatonit ]] && ! command -v catatonit >/dev/null; }; then
	echo "skipped: needs podman (apt-get install podman catatonit)"
	exit 77
fi
hu_need_cmd nsenter
"$HU_PY" -c 'import yaml' 2>/dev/null || { echo "skipped: needs python3-yaml"; exit 77; }
hu_need_lib
ROOT=$(bash "$HU_ROOT/tests/rootfs.sh" bullseye)
case $? in 0) ;; 77) echo "$ROOT"; exit 77 ;; *) hu_fail "tests/rootfs.sh bullseye" ;; esac

hu_net_setup
PM=$HU_TMP/podman
NET=hostup-test SUBNET=198.18.5.0/24
mkdir -p "$PM/networks" "$PM/tmp" "$PM/ctx" || hu_fail "mkdir $PM"
cat >"$PM/containers.conf" <<EOF
[containers]
# runc cannot set podman's default rlimits here ("error setting rlimit
# type 7: operation not permitted"): these are within the test's own
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[network]
network_backend = "netavark"
network_config_dir = "$PM/networks"
# should anything fall back to the default network, it is in the test range
default_subnet = "198.18.6.0/24"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$PM/tmp"
EOF
export CONTAINERS_CONF=$PM/containers.conf
pm() { nsenter --net="/run/netns/$NS_C" podman --root "$PM/storage" --runroot "$PM/run" "$@"; }
# podman names a pod's network namespace /run/netns/netns-UUID
pod_netns() { find /run/netns -maxdepth 1 -name 'netns-*' | sort; }
NETNS_BEFORE=$(pod_netns)

# Everything podman made, then its mounts; before lib.sh deletes the
# namespace and $HU_TMP.
pm_cleanup() {
	[[ ${HU__MAIN:-} == "$BASHPID" && -d $PM ]] || return 0
	pm pod rm -a -f -t 0 >/dev/null 2>&1
	pm rm -a -f -t 0 >/dev/null 2>&1
	pm volume rm -a -f >/dev/null 2>&1
	pm network rm -f "$NET" >/dev/null 2>&1
	grep -F " $PM/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
	return 0
}
trap 'pm_cleanup; hu_cleanup' EXIT
trap 'pm_cleanup; hu_cleanup; exit 130' INT
trap 'pm_cleanup; hu_cleanup; exit 143' TERM

# --- images -----------------------------------------------------------------
t0=$SECONDS
tar -C "$ROOT" --exclude=./.hostup-complete -c . | pm import - localhost/hostup-test-bullseye >"$PM/import.log" 2>&1 ||
	hu_fail "podman import of $ROOT: $(tail -n 3 "$PM/import.log")"
cp "$HU_LIB" "$HU_ROOT/examples/app.py" "$HU_ROOT/tests/docker/db.py" "$PM/ctx/" || hu_fail "build context"
# the Dockerfile's init stage: Debian, the library, a cp
printf '%s\n' 'FROM localhost/hostup-test-bullseye' 'COPY libhostup.so /usr/local/lib/hostup/libhostup.so' \
	'CMD ["cp", "/usr/local/lib/hostup/libhostup.so", "/hostup/"]' >"$PM/ctx/init.Containerfile"
# an application image that knows nothing of hostup (Debian 11: glibc 2.31)
printf '%s\n' 'FROM localhost/hostup-test-bullseye' 'COPY app.py /app/app.py' \
	'CMD ["python3", "/app/app.py"]' >"$PM/ctx/app.Containerfile"
printf '%s\n' 'FROM localhost/hostup-test-bullseye' 'COPY db.py /db.py' \
	'CMD ["python3", "/db.py"]' >"$PM/ctx/db.Containerfile"
for b in init:registry.example/hostup-init app:registry.example/app db:localhost/hostup-test-db; do
	pm build -q -f "$PM/ctx/${b%%:*}.Containerfile" -t "${b#*:}" "$PM/ctx" >>"$PM/build.log" 2>&1 ||
		hu_fail "podman build ${b#*:}: $(tail -n 3 "$PM/build.log")"
done
hu_ok "images imported and built in $((SECONDS - t0)) s"

out=$(pm network create --disable-dns --subnet "$SUBNET" "$NET" 2>&1) || hu_fail "podman network create: $out"

# --- the manifest, as played ---------------------------------------------------
# MANIFEST OUT LD_PRELOAD|keep RESTART|keep: the example plus the db sidecar,
# hostAliases and REQUESTS; optionally the library left out and another
# restartPolicy.  Fails (exit 1) if the example lost what the recipe needs.
derive() {
	"$HU_PY" - "$@" <<'EOF'
import sys, yaml
src, out, preload, restart = sys.argv[1:5]
d = yaml.safe_load(open(src))
spec = d["spec"]
vol = [v for v in spec["volumes"] if v["name"] == "hostup"]
init = spec["initContainers"][0]
app = spec["containers"][0]
env = {e["name"]: e["value"] for e in app["env"]}
assert vol and vol[0].get("emptyDir") == {}, "no emptyDir hostup"
assert init["command"] == ["cp", "/usr/local/lib/hostup/libhostup.so", "/hostup/"], init
assert env["LD_PRELOAD"] == "/hostup/libhostup.so" and "db:5432" in env["HOSTUP_POLICY"], env
assert {"name": "hostup", "mountPath": "/hostup", "readOnly": True} in app["volumeMounts"], app
if restart != "keep":
    spec["restartPolicy"] = restart
# the sidecar database, reached as "db" on the pod's localhost
spec["hostAliases"] = [{"ip": "127.0.0.1", "hostnames": ["db"]}]
spec["containers"].append({"name": "db", "image": "localhost/hostup-test-db",
                           "command": ["python3", "/db.py", "--listen-after", "6"]})
app["env"].append({"name": "REQUESTS", "value": "3"})
if preload != "keep":
    for e in app["env"]:
        if e["name"] == "LD_PRELOAD":
            e["value"] = preload
yaml.safe_dump(d, open(out, "w"))
print(spec.get("restartPolicy", "Always"))
EOF
}
policy=$(derive "$HU_ROOT/examples/kubernetes.yaml" "$HU_TMP/pod.yaml" keep keep) ||
	hu_fail "examples/kubernetes.yaml: $policy"
hu_assert_eq OnFailure "$policy" "the example's restartPolicy (podman 4.3 reruns init containers endlessly under Always)"

# app NAME: waits (60 s at most) until the pod's app container has exited;
# prints its exit code
app_wait() {
	local i st
	for ((i = 0; i < 120; i++)); do
		st=$(pm inspect app-app --format '{{.State.Status}} {{.State.ExitCode}}' 2>/dev/null)
		[[ $st == exited* ]] && { echo "${st#* }"; return 0; }
		sleep 0.5
	done
	echo "not exited after 60 s: $st"
}

# --- with hostup ---------------------------------------------------------------
SINCE=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
out=$(pm kube play --network "$NET" "$HU_TMP/pod.yaml" 2>&1) || hu_fail "podman kube play: $out"
hu_assert_contains "$out" "Pod:" "podman kube play starts the pod"
t0=$SECONDS
rc=$(app_wait)
secs=$((SECONDS - t0))
pm logs app-app >"$HU_TMP/app.out" 2>"$HU_TMP/app.err"
grep '^{' "$HU_TMP/app.err" >"$HU_TMP/app.log"
echo "--- app (stdout)"; cat "$HU_TMP/app.out"
hu_assert_eq 0 "$rc" "the app ends well (after ${secs} s)"
grep -q "cannot be preloaded" "$HU_TMP/app.err" && hu_fail "the loader could not preload /hostup/libhostup.so"
hu_assert_ge "$(wc -l <"$HU_TMP/app.log")" 2 "the library, preloaded from the emptyDir, wrote records"
hu_assert_contains "$(cat "$HU_TMP/app.out")" "app: request 3: db-ok" "all three requests answered"
hu_assert_eq "retry recovered" "$(hu_counts app | sed -E 's/retry=[1-9][0-9]*/retry/; s/ recovered=1 gave_up=0 config_error=0$/ recovered/')" \
	"records: retries, one recovery, nothing given up ($(hu_counts app))"
hu_assert_eq ECONNREFUSED "$(hu_field app retry errno | sort -u)" "the late db refused (ECONNREFUSED, retried by the manifest's rule)"
hu_assert_eq "db 127.0.0.1" "$(hu_field app recovered host) $(hu_field app recovered addr)" "db is the sidecar on localhost (hostAliases)"
attempt=$(hu_field app recovered attempt)
echo "recovered at attempt $attempt after $(hu_field app recovered elapsed_ms) ms"
env=$("$HU_PY" -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())["diagnosis"]["evidence"]["env"]
print(r.get("container"), r.get("own_addr"))' "$HU_TMP/app.log")
hu_assert_eq podman "${env%% *}" "records name the container: podman (/run/.containerenv)"
[[ ${env#* } == 198.18.5.* ]] || hu_fail "the pod's address is not in $SUBNET: ${env#* }"
hu_ok "the pod is on the test's network ($SUBNET): ${env#* }"

# the init container: once, done before the app started
pm events --stream=false --since "$SINCE" --format '{{.Time}} {{.Name}} {{.Status}}' >"$HU_TMP/events.txt" 2>&1
ev() { awk -v n="$1" -v s="$2" '$(NF-1) == n && $NF == s' "$HU_TMP/events.txt"; }
hu_assert_eq 1 "$(ev app-hostup-init start | wc -l)" "the init container ran once"
hu_assert_eq 1 "$(ev app-app start | wc -l)" "the app started once (no restart)"
hu_assert_eq 0 "$(pm inspect app-app --format '{{.RestartCount}}')" "the app's restart count"
order=$("$HU_PY" -c '
import sys
t = {}
for line in open(sys.argv[1]):     # "2026-12-07 05:44:21.765813176 +0000 UTC NAME STATUS"
    f = line.split()
    if len(f) >= 4:
        h, m, s = f[1].split(":")
        t.setdefault((f[-2], f[-1]), (f[0], int(h) * 3600 + int(m) * 60 + float(s)))
print(t[("app-hostup-init", "died")] < t[("app-app", "start")])' "$HU_TMP/events.txt" 2>&1)
hu_assert_eq True "$order" "the init container had finished when the app started"
mounts=$(pm inspect app-app --format '{{range .Mounts}}{{.Destination}} {{.Type}} {{.RW}}{{end}}')
hu_assert_eq "/hostup volume false" "$mounts" "the emptyDir is mounted read-only at /hostup"
hu_assert_eq "0 0" "$(ip -n "$NS_C" -br addr | grep -c '10\.88\.') $(ip -br addr | grep -c '10\.88\.')" \
	"nothing in podman's default network 10.88.0.0/16"
out=$(pm kube down "$HU_TMP/pod.yaml" 2>&1) || hu_fail "podman kube down: $out"

# --- without hostup: the same pod fails ------------------------------------
derive "$HU_ROOT/examples/kubernetes.yaml" "$HU_TMP/pod-without.yaml" "" Never >/dev/null ||
	hu_fail "the manifest without hostup"
out=$(pm kube play --network "$NET" "$HU_TMP/pod-without.yaml" 2>&1) || hu_fail "podman kube play (without): $out"
t0=$SECONDS
rc=$(app_wait)
secs=$((SECONDS - t0))
pm logs app-app >"$HU_TMP/without.out" 2>&1
hu_assert_eq 1 "$rc" "without hostup the app fails (after ${secs} s)"
hu_assert_contains "$(cat "$HU_TMP/without.out")" "ConnectionRefusedError" "without hostup: ECONNREFUSED from the late db"
[[ $(grep -c '^{' "$HU_TMP/without.out") == 0 ]] || hu_fail "records without the library"
hu_ok "without hostup: no records"
out=$(pm kube down "$HU_TMP/pod-without.yaml" 2>&1) || hu_fail "podman kube down: $out"

# --- nothing left --------------------------------------------------------------
pm network rm -f "$NET" >/dev/null 2>&1 || hu_fail "podman network rm $NET"
hu_assert_eq "" "$(pm ps -a -q; pm pod ps -q; pm volume ls -q)" "no container, pod or volume left"
hu_assert_eq "$NETNS_BEFORE" "$(pod_netns)" "no network namespace of podman's left"
hu_done
