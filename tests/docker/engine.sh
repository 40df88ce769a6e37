# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# A private Docker engine for the tests, and the images they use.  Source it
# after tests/integration/lib.sh.
#
# dockerd runs with its own socket, data root and exec root under
# $HU_DOCKER_DIR (/var/tmp/hostup-docker), never touching the host's
# firewall (iptables, ip6tables, ip-forward and ip-masq all false), with no
# docker0 (--bridge=none: only the tests' own networks, all --internal and
# in 198.19.0.0/16) and an unreachable upstream DNS (198.19.255.254), so no
# container can send anything off the machine.  The data root is kept
# between runs (the images are the cache); the daemon is always stopped.
# Every docker and docker-compose call goes to the private socket
# (DOCKER_HOST).  Images: debian:bookworm-slim is imported from a cached
# debootstrap root (tests/rootfs.sh bookworm-slim), since no registry is
# reachable; the unmodified Dockerfiles are then built with --network host,
# so their apt-get steps reach Debian's mirror.

HU_DOCKER_DIR=${HOSTUP_DOCKER_DIR:-/var/tmp/hostup-docker}
# the range docker takes networks from when none is given; a test with an
# engine of its own (its own HOSTUP_DOCKER_DIR) gives it a range of its own
HU_DOCKER_POOL=${HU_DOCKER_POOL:-198.19.0.0/16}
export DOCKER_HOST=unix://$HU_DOCKER_DIR/docker.sock
# Debian's client (docker.io), whatever else is on PATH
HU_DOCKER=docker
[[ -x /usr/bin/docker ]] && HU_DOCKER=/usr/bin/docker
HU_DOCKERD_PID=
HU_DOCKER_BRIDGES=()

hu_dk() { "$HU_DOCKER" "$@"; }

# Pids of processes started for this engine (dockerd, its containerd and
# shims): their command lines name our directory.
hu__docker_pids() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$HU_DOCKER_DIR/" && echo "${p#/proc/}"
	done
}

hu_docker_start() {
	local i old
	mkdir -p "$HU_DOCKER_DIR/data" "$HU_DOCKER_DIR/exec" || hu_fail "mkdir $HU_DOCKER_DIR"
	# a daemon left by an interrupted run of this test: ours, stop it
	old=$(hu__docker_pids)
	# shellcheck disable=SC2086
	[[ -n $old ]] && { echo "docker: stopping a daemon left over: $old"; hu__kill $old; }
	[[ -e /sys/class/net/docker0 ]] && HU__HAD_DOCKER0=1 || HU__HAD_DOCKER0=0
	dockerd -H "$DOCKER_HOST" --data-root "$HU_DOCKER_DIR/data" --exec-root "$HU_DOCKER_DIR/exec" \
		--pidfile "$HU_DOCKER_DIR/dockerd.pid" --iptables=false --ip6tables=false \
		--ip-forward=false --ip-masq=false --bridge=none --userland-proxy=false \
		--default-address-pool base="$HU_DOCKER_POOL",size=24 --dns 198.19.255.254 \
		--log-level warn >"$HU_DOCKER_DIR/dockerd.log" 2>&1 &
	HU_DOCKERD_PID=$!
	for ((i = 0; i < 600; i++)); do
		if hu_dk version >/dev/null 2>&1; then
			echo "docker: private dockerd up (pid $HU_DOCKERD_PID)"
			hu__docker_clear
			[[ -z $(hu_dk network ls -q --filter type=custom) ]] || hu_fail "docker: a network left over could not be removed"
			return 0
		fi
		kill -0 "$HU_DOCKERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$HU_DOCKER_DIR/dockerd.log" >&2
	hu_fail "dockerd did not start"
}

# Containers, networks and volumes in this engine's data root (kept between
# runs): the tests' own at the end, or those of a run that was killed.
hu__docker_clear() {
	local ids
	ids=$(hu_dk ps -aq)
	# shellcheck disable=SC2086
	[[ -n $ids ]] && hu_dk rm -f $ids >/dev/null 2>&1
	ids=$(hu_dk network ls -q --filter type=custom)
	# shellcheck disable=SC2086
	[[ -n $ids ]] && hu_dk network rm $ids >/dev/null 2>&1
	ids=$(hu_dk volume ls -q)
	# shellcheck disable=SC2086
	[[ -n $ids ]] && hu_dk volume rm -f $ids >/dev/null 2>&1
	return 0
}

# Everything the tests made, then the daemon, by its pid.
hu_docker_stop() {
	local ids left m i
	[[ -n $HU_DOCKERD_PID ]] || return 0
	hu_dk version >/dev/null 2>&1 && hu__docker_clear
	kill -TERM "$HU_DOCKERD_PID" 2>/dev/null
	for ((i = 0; i < 200; i++)); do # gone, or a zombie waiting for us
		[[ $(awk '{print $3}' "/proc/$HU_DOCKERD_PID/stat" 2>/dev/null) == @(Z|) ]] && break
		sleep 0.1
	done
	wait "$HU_DOCKERD_PID" 2>/dev/null
	left=$(hu__docker_pids)
	# shellcheck disable=SC2086
	[[ -n $left ]] && hu__kill $left
	HU_DOCKERD_PID=
	for m in "${HU_DOCKER_BRIDGES[@]}"; do
		[[ -e /sys/class/net/$m ]] && ip link del "$m"
	done
	[[ ${HU__HAD_DOCKER0:-1} == 0 && -e /sys/class/net/docker0 ]] && ip link del docker0
	# mounts of a daemon that did not get to clean up
	grep -F " $HU_DOCKER_DIR/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
		umount -l "$m"
	done
	rm -f "$HU_DOCKER_DIR/dockerd.pid"
	return 0
}

# An internal network (no gateway route out) in the test range; its bridge
# is deleted by hu_docker_stop if docker leaves it.
hu_docker_network() { # NAME SUBNET
	local id
	id=$(hu_dk network create --internal --subnet "$2" "$1") || hu_fail "docker network create $1"
	HU_DOCKER_BRIDGES+=("br-${id:0:12}")
}

hu__build() { # TAG ARGS...: docker build, log to $HU_TMP/build_TAG.log
	local tag=$1 log t0=$SECONDS
	shift
	log=$HU_TMP/build_${tag//[:\/]/_}.log
	hu_dk build -t "$tag" "$@" >"$log" 2>&1 || { tail -n 20 "$log" >&2; hu_fail "docker build -t $tag $*"; }
	echo "docker: built $tag in $((SECONDS - t0)) s"
}

# debian:bookworm-slim, imported once into this engine's data root.
hu_docker_base() {
	local root
	hu_dk image inspect debian:bookworm-slim >/dev/null 2>&1 && return 0
	root=$(bash "$HU_ROOT/tests/rootfs.sh" bookworm-slim)
	case $? in 0) ;; 77) echo "$root"; exit 77 ;; *) hu_fail "tests/rootfs.sh bookworm-slim" ;; esac
	tar -C "$root" --exclude=./.hostup-complete -c . | hu_dk import - debian:bookworm-slim >/dev/null ||
		hu_fail "docker import debian:bookworm-slim"
	echo "docker: imported debian:bookworm-slim from $root"
}

# The base image, the hostup image and its init stage, the example app and
# the database stand-in.
hu_docker_images() {
	hu_docker_base
	hu__build hostup --network host "$HU_ROOT"
	hu__build hostup-init --network host --target init "$HU_ROOT"
	hu__build hostup-example-app --network host "$HU_ROOT/examples"
	hu__build hostup-test-db -f "$HU_ROOT/tests/docker/db.Dockerfile" "$HU_ROOT/tests/docker"
}
