# SPDX-License-Identifier: MIT
# hostup: build, test, install.  `make check` and `make demo` install
# missing Debian packages first (as root), see tests/deps.sh.

PREFIX  ?= /usr/local
DESTDIR ?=
B       := build

CC      ?= cc
WARN    := -Wall -Wextra -Wformat=2 -Wshadow -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
CFLAGS  += $(WARN) -std=gnu11 -fPIC -fvisibility=hidden -Iinclude -Ishim -include shim/sys/libc_compat.h
LDLIBS_CHECK := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -pthread)

# Sanitizer builds: `make check SANITIZE=address,undefined` or SANITIZE=thread
# builds everything with -fsanitize=... into its own directory (build-asan,
# build-tsan; B=... overrides), so the normal build is untouched.  Tests of
# the preloaded library then put the sanitizer runtime first in LD_PRELOAD
# (HU_PRELOAD_PREFIX, see tests/run.sh).
SANITIZE ?=
SAN_FLAGS :=
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS    += $(SAN_FLAGS)
LDFLAGS   += $(SAN_FLAGS)
ifeq ($(origin B),file)
B := $(if $(findstring thread,$(SANITIZE)),build-tsan,$(if $(findstring undefined,$(SANITIZE)),build-asan,build-san-$(SANITIZE)))
endif
# tests/run.sh finds the build and the runtime to preload from these
export HU_BUILD := $(abspath $(B))
export HU_SANITIZE := $(SANITIZE)
endif

# The library's layers, each a folder of shim/ that calls only the ones
# below it: sys (real calls) < core (policy, records, diagnosis) < engine
# (connections, herd, volumes, the retry decision) < wrap (the exported
# calls).  cli/ is the command, beside wrap, on top of core.
# Core, with the part of sys it reads files with: shared by the library,
# the CLI and the unit tests.
CORE_SRC := shim/sys/readfile.c shim/sys/readfile_bounded.c shim/sys/optlibs.c \
            $(addprefix shim/core/,policy.c policy_parse.c policy_option.c policy_match.c config.c \
              errnames.c backoff.c log.c log_dest.c log_format.c log_otel.c diagnosis.c probe.c backtrace.c \
              environment.c env_net.c env_cache.c mounts.c diag_volume.c shared.c shared_file.c shared_prune.c \
              netinfo.c diag_overlap.c offline.c)
# Library only: the real calls, the engine and the wrapped calls.
LIB_SRC  := $(addprefix shim/sys/,jansson_link.c real.c elfsym.c) \
            $(addprefix shim/engine/,init.c retry.c names.c relookup.c lookup.c fdtable.c decide.c conn.c conn_log.c \
              stale.c herd.c herd_budget.c volume.c volume_retry.c mount_cache.c moved.c) \
            $(addprefix shim/wrap/,connect.c resolve.c poll.c epoll.c fd.c file.c read.c stdio.c dlopen.c)
CLI_SRC  := $(addprefix shim/cli/,main.c help.c common.c library.c run.c policy_cmd.c doctor.c doctor_probe.c doctor_net.c \
              report.c report_alloc.c report_read.c report_stats.c report_print.c status.c metrics.c metrics_render.c metrics_http.c http_request.c)
# The supervisor (hostup run for static and Go programs): a layer beside
# cli, on top of the engine's herd and clock, the core and sys.
SV_SRC   := $(addprefix shim/supervise/,run.c filter.c notify.c recv.c hold.c decide.c answer.c \
              record.c config.c elf.c) shim/engine/herd.c shim/engine/herd_budget.c shim/engine/retry.c shim/engine/decide.c
UNIT_SRC := $(wildcard tests/unit/*.c)
# Test tools: programs, plus the two preloadable test libraries.
TOOL_SO  := hu_early hu_stack hu_deepclose
# The flaky FUSE file system of the network-volume tests links libfuse3.
TOOL_FUSE := hu_flakyfs
# dlopen through DT_RUNPATH (test_deepbind.sh): a program and a library that
# open a leaf library found only in $(B)/tools/dlopen_leaf/
TOOL_DL  := hu_dlopen hu_dlopen_opener hu_dlopen_leaf
TOOLS    := $(patsubst tests/tools/%.c,$(B)/tools/%,$(filter-out $(TOOL_SO:%=tests/tools/%.c) $(TOOL_FUSE:%=tests/tools/%.c) $(TOOL_DL:%=tests/tools/%.c),$(wildcard tests/tools/*.c))) \
            $(TOOL_SO:%=$(B)/tools/lib%.so) $(TOOL_FUSE:%=$(B)/tools/%) \
            $(B)/tools/hu_dlopen $(B)/tools/libhu_dlopen_opener.so $(B)/tools/dlopen_leaf/libhu_dlopen_leaf.so \
            $(if $(MUSL),,$(B)/tools/hu_connect_static)

CORE_OBJ := $(CORE_SRC:shim/%.c=$(B)/obj/%.o)
LIB_OBJ  := $(LIB_SRC:shim/%.c=$(B)/obj/%.o)
HEADERS  := $(wildcard include/hostup/*.h shim/*/*.h) shim/sys/calls.def

# jansson is linked in statically and kept local, so ldd shows libc only.
STATIC_JANSSON := -Wl,-Bstatic -ljansson -Wl,-Bdynamic

# glibc baseline: what we ship must load on glibc 2.17 and later.
# shim/sys/libc_compat.h binds the calls newer glibc re-versioned to their old
# versions; before 2.34 dlsym/dlopen/dladdr were in libdl and pthread_once
# and pthread_create in libpthread: the library references them weakly
# (shim/sys/optlibs.c) and names neither library, whose loading would cost
# every exec ~24,000 instructions.
# The CLI's __libc_start_main goes the same way (shim/cli/glibc_start.c).
# The musl build (make musl) sets these empty.
GLIBC_MAX     := 2.17
LIB_LIBC_LIBS :=
CLI_START     := shim/cli/glibc_start.c -Wl,--wrap=__libc_start_main
CLI_LDFLAGS   :=
# The command names both (the supervisor's threads, backtrace's dlopen): its
# start-up cost does not matter, the library's does.
CLI_LIBC_LIBS := -Wl,--no-as-needed -l:libdl.so.2 -l:libpthread.so.0 -Wl,--as-needed
# The library binds its own imports lazily: -z now resolved all ~110 of them
# (jansson's included) in every exec, ~75,000 instructions, when a process
# that fails nothing calls a handful.  RELRO stays (partial: the PLT's GOT is
# written by the lazy binder).  The CLI keeps -z now.  -Bsymbolic-functions:
# jansson's calls of names we export reach our wrappers (they pass through
# under the guard) without a relocation each.
LIB_LINK      := -Wl,-z,relro -Wl,-z,lazy -Wl,-Bsymbolic-functions
TOOL_FLAGS    :=
# After each link of the library and the CLI: fail, naming the symbol, if a
# glibc symbol version above GLIBC_MAX slipped in (skipped for sanitizer builds).
define glibc_guard
	$(if $(SANITIZE),,@objdump -T $@ 2>/dev/null | awk -v max=$(GLIBC_MAX) -v f=$@ ' \
	  match($$0, /GLIBC_[0-9.]+|GLIBC_PRIVATE/) { v = substr($$0, RSTART + 6, RLENGTH - 6); \
	    split(v, a, "."); split(max, m, "."); \
	    if (v == "PRIVATE" || a[1] > m[1] || (a[1] == m[1] && a[2] > m[2])) { \
	      printf "hostup: %s needs GLIBC_%s for %s; the baseline is GLIBC_%s (see shim/sys/libc_compat.h)\n", f, v, $$NF, max; bad = 1 } } \
	  END { exit bad }' || { rm -f $@; exit 1; })
endef

# musl (Alpine): `make musl` builds build-musl/libhostup.so (needs musl's
# libc only) and a static build-musl/hostup with musl-gcc, plus the test
# tools test_musl.sh runs.  jansson for it is built from Debian's source
# package by tests/musl/jansson.sh (cached in /var/tmp/hostup-musl); the
# kernel's headers come from Debian's linux-libc-dev through $(B)/kinc.
# `make install MUSL=1` installs that build.
MUSL ?=
MUSL_JANSSON ?=
MUSL_TOOLS := hu_connect hu_evloop hu_volread hu_errno hu_threads hu_fork
ifeq ($(MUSL),1)
ifeq ($(origin B),file)
B := build-musl
endif
CC             := musl-gcc
LIB_LIBC_LIBS  :=
CLI_START      :=
CLI_LDFLAGS    := -static
CLI_LIBC_LIBS  :=
STATIC_JANSSON := -ljansson
CFLAGS         += -I$(MUSL_JANSSON)/include -isystem $(B)/kinc
LDFLAGS        += -L$(MUSL_JANSSON)/lib
TOOL_FLAGS     := -include tests/musl/tools_compat.h tests/musl/tools_compat.c
endif

.PHONY: all lib cli tools check check-quick unit integration demo fresh bench install uninstall clean deps-build musl deb

# The product only: the library and the command.  The test tools (some need
# libfuse3-dev) build under `make tools`, which check and integration run.
all: lib cli

lib: $(B)/libhostup.so
cli: $(B)/hostup
tools: $(TOOLS)

$(B)/obj/%.o: shim/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libhostup-core.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The version script: the names of shim/sys/calls.def (tests/integration/
# test_safety.sh checks nm -D against it).
$(B)/exports.map: shim/sys/exports.map.in shim/sys/calls.def
	@mkdir -p $(dir $@)
	$(CC) -E -P -undef -x c -o $@ $<

$(B)/libhostup.so: $(LIB_OBJ) $(B)/libhostup-core.a $(B)/exports.map
	$(CC) $(CFLAGS) -shared -o $@ $(LIB_OBJ) $(B)/libhostup-core.a \
	  -Wl,--version-script=$(B)/exports.map -Wl,--exclude-libs,ALL $(LIB_LINK) \
	  $(STATIC_JANSSON) $(LIB_LIBC_LIBS) $(LDFLAGS)
	$(glibc_guard)

$(B)/hostup: $(CLI_SRC) $(SV_SRC) $(B)/libhostup-core.a $(HEADERS) shim/cli/glibc_start.c
	$(CC) $(CFLAGS) -pthread -o $@ $(CLI_SRC) $(SV_SRC) $(CLI_START) $(B)/libhostup-core.a $(STATIC_JANSSON) \
	  -Wl,-z,relro -Wl,-z,now $(LDFLAGS) $(CLI_LDFLAGS) -lm $(CLI_LIBC_LIBS)
	$(glibc_guard)

$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -pthread $(SAN_FLAGS) $(TOOL_FLAGS) -o $@ $<

# hu_connect linked statically: the supervisor's static C client
# (test_supervise.sh); no sanitizer, whose runtimes are shared objects
$(B)/tools/hu_connect_static: tests/tools/hu_connect.c
	@mkdir -p $(dir $@)
	@# ld warns that a static getaddrinfo needs the NSS modules at run time: the tests use addresses
	$(CC) -O2 -g -Wall -Wextra -static -o $@ $< 2>$@.ld || { cat $@.ld; exit 1; }

$(B)/tools/hu_flakyfs: tests/tools/hu_flakyfs.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -pthread $(SAN_FLAGS) $$(pkg-config --cflags fuse3) -o $@ $< $$(pkg-config --libs fuse3)

DL_RUNPATH := -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/dlopen_leaf'
$(B)/tools/dlopen_leaf/libhu_dlopen_leaf.so: tests/tools/hu_dlopen_leaf.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -shared -fPIC $(SAN_FLAGS) -o $@ $<

$(B)/tools/libhu_dlopen_opener.so: tests/tools/hu_dlopen_opener.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -shared -fPIC $(SAN_FLAGS) $(DL_RUNPATH) -o $@ $< -ldl

$(B)/tools/hu_dlopen: tests/tools/hu_dlopen.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra $(SAN_FLAGS) $(DL_RUNPATH) -o $@ $< -ldl

$(B)/tools/lib%.so: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -shared -fPIC $(SAN_FLAGS) -o $@ $<

# The unit tests link the core and the engine's retry decision, which
# needs neither the wrappers nor dlsym (engine/decide.h); and the
# supervisor's pure parts (ELF detection, its adapter to the decision).
UNIT_ENGINE := $(B)/obj/engine/decide.o $(B)/obj/engine/moved.o $(B)/obj/engine/names.o
UNIT_SV  := shim/supervise/elf.c shim/supervise/decide.c
$(B)/unit_tests: $(UNIT_SRC) $(UNIT_ENGINE) $(UNIT_SV) $(B)/libhostup-core.a $(HEADERS)
	$(CC) $(CFLAGS) -o $@ $(UNIT_SRC) $(UNIT_ENGINE) $(UNIT_SV) $(B)/libhostup-core.a $(STATIC_JANSSON) $(LDLIBS_CHECK) $(LDFLAGS)

# the probe benchmark calls the core directly
$(B)/bench/probes: bench/probes.c $(B)/libhostup-core.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libhostup-core.a $(STATIC_JANSSON)

$(B)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -o $@ $<

# Measurements, all of them (bench/run.sh); results go to bench/results/.
# Installs valgrind, gnuplot and the programs it times first, as root.
BENCH_PROGS := $(B)/bench/calls $(B)/bench/reads $(B)/bench/herd $(B)/bench/startup $(B)/bench/sockets
bench:
	@bash tests/deps.sh bench
	@$(MAKE) --no-print-directory all $(BENCH_PROGS)
	@bash bench/run.sh

deps-%:
	@bash tests/deps.sh $*

# What the normal `make check` also runs under ASan/UBSan (tests/run.sh).
SAN_QUICK := build-asan/unit_tests build-asan/libhostup.so build-asan/tools/hu_errno

musl: deps-musl
	@mkdir -p build-musl/kinc && ln -sfn /usr/include/linux build-musl/kinc/linux && \
	  ln -sfn /usr/include/asm-generic build-musl/kinc/asm-generic && \
	  ln -sfn /usr/include/$$(gcc -print-multiarch)/asm build-musl/kinc/asm
	@j=$$(bash tests/musl/jansson.sh) && $(MAKE) --no-print-directory MUSL=1 B=build-musl \
	  MUSL_JANSSON=$$j lib cli $(MUSL_TOOLS:%=build-musl/tools/%)

# The README's test command.
check: deps-check
	@$(MAKE) --no-print-directory all tools $(B)/unit_tests
	@$(if $(SANITIZE),true,$(MAKE) --no-print-directory musl)
	@$(if $(SANITIZE),true,$(MAKE) --no-print-directory SANITIZE=address,undefined B=build-asan $(SAN_QUICK))
	@bash tests/run.sh

# The edit loop: the unit tests and the integration tests that take
# seconds (no Docker, VM, root file systems, musl or sanitizer builds).
QUICK_TESTS := harness cli cli_metrics sizes safety secure config_input errno backoff report \
               identity load_check
check-quick: deps-check
	@$(MAKE) --no-print-directory all tools $(B)/unit_tests
	@HU_TESTS="$(QUICK_TESTS)" HU_BG_TESTS="test_harness.sh test_identity.sh" bash tests/run.sh

unit: $(B)/unit_tests
	$(B)/unit_tests

integration: all tools
	@$(MAKE) --no-print-directory musl
	@bash tests/run.sh --integration-only

# The README's first command: a real client survives a host that is down.
# It builds only the library, the one thing it runs.
demo: deps-demo
	@$(MAKE) --no-print-directory lib
	@bash tests/demo.sh

# `make demo` from nothing, in a fresh minimal Debian 12 root file system
# (tests/fresh_machine.sh; FRESH_TARGET=check runs the test command instead).
FRESH_TARGET ?= demo
fresh: deps-fresh
	@bash tests/fresh_machine.sh $(FRESH_TARGET)

# What `make install` puts down, below $(DESTDIR)$(PREFIX); `make uninstall`
# removes exactly these files, then the folders of hostup's own (lib/hostup,
# include/hostup, share/hostup) once they are empty.  The man pages are
# man/*.[157] (mdoc; make lint checks them), the bash completion
# completion/hostup.bash.
MAN_PAGES := man/hostup.1 man/hostup-policy.5 man/libhostup.7
COMPLETION := share/bash-completion/completions/hostup
CONFIGS   := $(wildcard config/*)
INSTALLED := lib/hostup/libhostup.so bin/hostup \
             $(wildcard include/hostup/*.h) \
             $(CONFIGS:config/%=share/hostup/%) \
             $(foreach m,$(MAN_PAGES),share/man/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
             $(COMPLETION)
OWN_DIRS  := lib/hostup include/hostup share/hostup
D := $(DESTDIR)$(PREFIX)

install: $(if $(filter 1,$(MUSL)),musl,lib cli)
	install -d $(D)/lib/hostup $(D)/bin $(D)/include/hostup $(D)/share/hostup \
	  $(D)/share/man/man1 $(D)/share/man/man5 $(D)/share/man/man7
	install -m 0644 $(B)/libhostup.so $(D)/lib/hostup/libhostup.so
	install -m 0755 $(B)/hostup $(D)/bin/hostup
	install -m 0644 include/hostup/*.h $(D)/include/hostup/
	install -m 0644 $(CONFIGS) $(D)/share/hostup/
	for m in $(MAN_PAGES); do s=$${m##*.}; install -m 0644 $$m $(D)/share/man/man$$s/ || exit 1; done
	install -D -m 0644 completion/hostup.bash $(D)/$(COMPLETION)

uninstall:
	rm -f $(addprefix $(D)/,$(INSTALLED))
	rmdir $(addprefix $(D)/,$(OWN_DIRS)) 2>/dev/null || true

# hostup_VERSION_amd64.deb: the library, the command, the man pages and the
# example configs, staged by `make install PREFIX=/usr` (packaging/deb.sh)
deb: deps-deb lib cli
	@bash packaging/deb.sh "$(B)"

clean:
	rm -rf $(B)

# libFuzzer harnesses (tests/fuzz/): the core's parsers built with clang,
# ASan and UBSan, each run for FUZZ_SECONDS; results in bench/results/fuzz.md.
.PHONY: fuzz fuzz-build
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?=
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -std=gnu11 -Iinclude -Ishim -D_GNU_SOURCE \
                -Wall -Wno-macro-redefined
FUZZ_NAMES   := policy config env log mounts report http
FUZZ_BINS    := $(FUZZ_NAMES:%=$(B)/fuzz/fuzz_%)
# the CLI's parsers each harness needs besides the core
FUZZ_CLI_report := $(addprefix shim/cli/,report_read.c report_stats.c report_alloc.c)
FUZZ_CLI_http   := shim/cli/http_request.c

fuzz-build: $(FUZZ_BINS)

.SECONDEXPANSION:
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(CORE_SRC) $(HEADERS) $$(FUZZ_CLI_$$*)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CLI_$*) $(CORE_SRC) -ljansson -lm

fuzz: $(FUZZ_BINS)
	@FUZZ_RUNS=$(FUZZ_RUNS) bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

# Static analysis of shim/*/*.c and the man pages: sizes (tests/lint/sizes.sh: no file over
# 600 lines, no function over 80), the layering (tests/lint/layering.sh: no
# call from inside the library to a name it exports, includes only
# downward), cppcheck (tests/cppcheck.supp), clang-tidy (.clang-tidy), gcc
# and clang with the warnings below as errors, and mandoc -T lint -W
# warning and groff -ww on man/.
# -Wsign-conversion is left out: all it finds is in the kernel's netlink
# macros (RTA_OK/RTA_NEXT/NLMSG_NEXT mix int lengths and unsigned sizes).
.PHONY: lint
LINT_WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wconversion -Wno-sign-conversion \
             -Wno-missing-field-initializers -Werror
lint: deps-lint
	@bash tests/lint/sizes.sh
	@$(MAKE) --no-print-directory lib
	@bash tests/lint/layering.sh $(B)
	@out=$$(mandoc -T lint -W warning $(MAN_PAGES) 2>&1; groff -ww -z -mandoc $(MAN_PAGES) 2>&1); \
	  [ -z "$$out" ] || { echo "$$out"; exit 1; }; echo "lint: man pages (mandoc -T lint, groff -ww): clean"
	@for cc in gcc clang; do for f in shim/*/*.c; do \
	  $$cc -fsyntax-only -std=gnu11 -Iinclude -Ishim $(LINT_WARN) $$f || exit 1; done; \
	  echo "lint: $$cc $(LINT_WARN): clean"; done
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance --std=c11 \
	  -D_GNU_SOURCE -Iinclude -Ishim --include=/usr/include/jansson.h \
	  --suppressions-list=tests/cppcheck.supp shim/*/*.c
	clang-tidy --quiet --warnings-as-errors='*' shim/*/*.c -- -std=gnu11 -Iinclude -Ishim -D_GNU_SOURCE
	@echo "lint: cppcheck and clang-tidy: clean"
