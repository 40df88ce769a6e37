#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One line naming the machine a benchmark ran on.
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
mem=$(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo)
os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
echo "$(uname -m), $(nproc) cores, ${cpu:-unknown CPU}, $mem, ${os:-Linux}, kernel $(uname -r), $(ldd --version | head -1 | sed 's/^ldd //')"
