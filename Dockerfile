# SPDX-License-Identifier: MIT
# The hostup image: the library and the command, to copy into your own
# images (see README, "Containers"):
#
#   docker build -t hostup .
#   # in your Dockerfile:
#   COPY --from=hostup /usr/local/lib/hostup/libhostup.so /usr/local/lib/hostup/
#   RUN out=$(LD_PRELOAD=/usr/local/lib/hostup/libhostup.so /bin/true 2>&1) && [ -z "$out" ] || { echo "$out"; exit 1; }
#   ENV LD_PRELOAD=/usr/local/lib/hostup/libhostup.so
#
# The build stage is Debian 12; what it builds needs glibc 2.17 or later
# (the Makefile's glibc_guard fails the build otherwise), so it loads in
# Debian 10+, Ubuntu 18.04+, RHEL/CentOS 7+ and Amazon Linux 2 images.
# The musl build (Alpine) is beside it under /usr/local/musl/:
#   COPY --from=hostup /usr/local/musl/lib/hostup/libhostup.so /usr/local/lib/hostup/
# and /usr/local/musl/bin/hostup is static: it runs in any x86-64 image.
# The final stage is empty apart from the installed files: it is a source
# to copy from, not an image to run.  The `init` stage is the same files on
# Debian with a `cp`, for an init container that copies the library into a
# shared volume (Kubernetes, examples/kubernetes.yaml):
#   docker build --target init -t hostup-init .

FROM debian:bookworm-slim AS build
# the build packages, and the musl build's (tests/deps.sh build and musl)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev libjansson-dev libunwind-dev \
      musl-tools linux-libc-dev dpkg-dev autoconf automake libtool ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# jansson for musl, from Debian's source package: its own layer, so a
# change to the sources does not build it again
COPY tests/musl/jansson.sh tests/musl/
RUN bash tests/musl/jansson.sh
COPY . .
RUN make lib cli \
 && make install PREFIX=/usr/local DESTDIR=/out \
 && make musl \
 && make install MUSL=1 PREFIX=/usr/local/musl DESTDIR=/out \
 && rm -rf /out/usr/local/musl/include /out/usr/local/musl/share

FROM debian:bookworm-slim AS init
COPY --from=build /out/usr/local/ /usr/local/
CMD ["cp", "/usr/local/lib/hostup/libhostup.so", "/hostup/"]

FROM scratch
COPY --from=build /out/usr/local/ /usr/local/
LABEL org.opencontainers.image.title="hostup" \
      org.opencontainers.image.description="libhostup.so and hostup, to COPY --from into application images"
