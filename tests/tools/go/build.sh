#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds tests/tools/go/hu_goclient (standard library only, offline) into
# OUT: static with CGO_ENABLED=0 (the default), or linked against libc with
# cgo when the second argument is "cgo" (needs gcc).  The Go build cache is
# kept in HU_GO_CACHE (/var/tmp/hostup-go).
#   tests/tools/go/build.sh OUT [cgo]
set -u
out=${1:?usage: build.sh OUT [cgo]}
cgo=0
[[ ${2:-} == cgo ]] && cgo=1
cache=${HU_GO_CACHE:-/var/tmp/hostup-go}
mkdir -p "$cache" || exit 1
cd "$(dirname "$0")" && CGO_ENABLED=$cgo GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local \
	GOCACHE="$cache/build" GOPATH="$cache/path" HOME="$cache" go build -o "$out" ./hu_goclient
