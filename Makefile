# magos-dominus — plain Makefile, every library through pkg-config.
# Everything is written under build/ (or build-asan/ for `make asan`).

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
PYTHON  ?= /usr/bin/python3
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

PKGS := libcurl libgit2 jansson yaml-0.1 libcrypto libpcre2-8 libmicrohttpd

WARN := -std=c11 -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wpointer-arith -Wcast-qual
ifeq ($(CI),true)
WERROR ?= 1
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif

# CFLAGS/LDFLAGS are the user's (optimisation, sanitizers); what the build
# needs is in MD_CFLAGS so `make CFLAGS=...` cannot drop it.
CFLAGS  ?= -O2 -g
MD_CFLAGS = $(CFLAGS) $(WARN) -D_DEFAULT_SOURCE -D_GNU_SOURCE -Iinclude \
           -DMD_VERSION=\"$(VERSION)\" $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS))

LIB_SRC  := $(sort $(wildcard internal/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/cmd/server/main.o
BIN      := $(BUILD)/magos-dominus
LIBA     := $(BUILD)/libmagos.a
# The crash tests' binary: the same objects, with the no-op test hook
# replaced by one that pauses at a named phase (tests/crash/hook.c).
HOOKS_BIN := $(BUILD)/magos-dominus-hooks
HOOK_OBJ  := $(BUILD)/obj/tests/crash/hook.o
NOHOOK_OBJ := $(BUILD)/obj/internal/util/testhook.o

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all test unit integration fuzz-replay fuzz fuzz-long deps demo demo-clean install \
        asan asan-unit clean bench crash crash-long

all: $(BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(MD_CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(HOOK_OBJ:.o=.d)

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIBA)
	$(CC) $(MD_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(HOOKS_BIN): $(MAIN_OBJ) $(HOOK_OBJ) $(filter-out $(NOHOOK_OBJ),$(LIB_OBJ))
	$(CC) $(MD_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test links only its own module, the lower modules it calls
# (MODULE_DEPS_<m>) and util, so each module's tests build and run while
# other modules are being worked on: test_<m>.c and test_<m>_<part>.c need
# internal/<m>/ and internal/util/ (modules listed in UNIT_WHOLE link all).
UNIT_WHOLE := test_daemon test_cli test_watcher test_reconcile test_publish test_rollout
MODULE_DEPS_applier := ref
MODULE_DEPS_obs := config
MODULE_DEPS_policy := ref
MODULE_DEPS_registry := ref
MODULE_DEPS_scan := ref
MODULE_DEPS_sigstore := ref
MODULE_DEPS_state := ref
unit_module = $(firstword $(subst _, ,$(patsubst test_%,%,$(1))))
module_dirs = $(foreach m,$(1) $(MODULE_DEPS_$(1)) util,internal/$(m)/%)
unit_objs = $(if $(filter $(1),$(UNIT_WHOLE)),$(LIB_OBJ),\
	$(filter $(addprefix $(BUILD)/obj/,$(call module_dirs,$(call unit_module,$(1)))),$(LIB_OBJ)))

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $$(call unit_objs,$$*)
	@mkdir -p $(dir $@)
	$(CC) $(MD_CFLAGS) $(LDFLAGS) -Itests/unit $(shell pkg-config --cflags cmocka) -o $@ $< \
		$(call unit_objs,$*) $(LDLIBS) $(shell pkg-config --libs cmocka)

$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay.c $$(call fuzz_objs,$$*) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MD_CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(call fuzz_objs,$*) $(LDLIBS)

# Build and run one module's unit tests: `make unit-policy`; one fuzz
# corpus replay: `make fuzz-replay-policy`.
unit-%: $(BUILD)/tests/test_%
	$<
fuzz-replay-%: $(BUILD)/fuzz-replay/fuzz_%
	$< tests/fuzz/corpus/$* $(FUZZ_SEEDS_$*)

# Third-party data is read where it is, never copied into the tree (see
# docs/testing.md): these seed directories are replayed beside a module's own
# corpus. Also pass them to libFuzzer after the corpus directory.
SHARED_FIXTURES ?= ../shared/fixtures
FUZZ_SEEDS_secrets = $(SHARED_FIXTURES)/sops $(SHARED_FIXTURES)/age
FUZZ_SEEDS_sigstore = $(wildcard $(SHARED_FIXTURES)/sigstore-conformance/bundle-verify/*/)
FUZZ_SEEDS_scan = $(SHARED_FIXTURES)/trivy

# fuzz_<name>.c likewise links internal/<name>/ and internal/util/, unless
# FUZZ_MODULES_<name> lists the modules it needs ("all": the whole library,
# for parsers that live in a module calling every other one).
FUZZ_MODULES_cli := all
FUZZ_MODULES_daemon := all
fuzz_mods = $(or $(FUZZ_MODULES_$(patsubst fuzz_%,%,$(1))),$(patsubst fuzz_%,%,$(1)))
fuzz_srcs = $(if $(filter all,$(call fuzz_mods,$(1))),$(LIB_SRC),\
	$(filter $(foreach m,$(call fuzz_mods,$(1)),$(call module_dirs,$(m))),$(LIB_SRC)))
fuzz_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(call fuzz_srcs,$(1)))

# libFuzzer builds need clang: `make fuzz`, then run build/fuzz/fuzz_<name>
# on a copy of tests/fuzz/corpus/<name> (or `make fuzz-long`). The library
# is compiled once with coverage instrumentation and the sanitizers.
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined $(filter-out -Werror,$(WARN)) -D_DEFAULT_SOURCE \
	-D_GNU_SOURCE -Iinclude -DMD_VERSION=\"$(VERSION)\" $(shell pkg-config --cflags $(PKGS))
fuzz_cobjs = $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(call fuzz_srcs,$(1)))

$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

-include $(wildcard $(BUILD)/fuzz-obj/internal/*/*.d)

$(BUILD)/fuzz/%: tests/fuzz/%.c $$(call fuzz_cobjs,$$*) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(call fuzz_cobjs,$*) $(LDLIBS)

fuzz: $(FUZZ_BIN)

# Every target for FUZZ_SECONDS each, one after the other on one core
# (libFuzzer's new inputs go to build/fuzz-corpus/, never into the
# repository's seeds), then a table of executions, coverage and crashes.
FUZZ_SECONDS ?= 600
fuzz-long: $(FUZZ_BIN)
	contrib/fuzz-long.sh $(FUZZ_SECONDS) $(BUILD) $(FUZZ_BIN)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

fuzz-replay: $(FUZZ_REPLAY)
	@set -e; $(foreach t,$(FUZZ_REPLAY),m=$(patsubst fuzz_%,%,$(notdir $(t))); \
		echo "== fuzz_$$m"; $(t) tests/fuzz/corpus/$$m $(FUZZ_SEEDS_$(patsubst fuzz_%,%,$(notdir $(t))));)

integration: $(BIN) $(HOOKS_BIN)
	MAGOS_BIN=$(abspath $(BIN)) MAGOS_HOOKS_BIN=$(abspath $(HOOKS_BIN)) \
		$(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

# The crash tests alone (5 SIGKILLs per phase, as in `make test`), and the
# long run: 100 per phase.
crash: $(BIN) $(HOOKS_BIN)
	MAGOS_BIN=$(abspath $(BIN)) MAGOS_HOOKS_BIN=$(abspath $(HOOKS_BIN)) \
		$(PYTHON) -m pytest -q tests/integration/test_crash.py $(PYTEST_ARGS)
crash-long: $(BIN) $(HOOKS_BIN)
	MAGOS_CRASH_KILLS=100 MAGOS_BIN=$(abspath $(BIN)) MAGOS_HOOKS_BIN=$(abspath $(HOOKS_BIN)) \
		$(PYTHON) -m pytest -q tests/integration/test_crash.py $(PYTEST_ARGS)

# The whole suite: what CI runs (see .ci/run and the README).
test: $(BIN) $(HOOKS_BIN) unit fuzz-replay integration

# Unit and integration tests under AddressSanitizer + UBSan (gcc's).
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" test

# Only the unit tests and the fuzz corpus replays under the sanitizers: a
# few minutes, run by CI after `make test`.
asan-unit:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		unit fuzz-replay

deps:
	contrib/deps.sh

demo: deps $(BIN)
	contrib/demo.sh $(abspath $(BIN))

demo-clean:
	contrib/demo.sh --clean

bench: $(BIN)
	@for b in tests/bench/*; do [ -x "$$b" ] && "$$b" $(abspath $(BIN)); done; true

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/magos-dominus
	install -d $(DESTDIR)$(PREFIX)/share/doc/magos-dominus/examples
	install -m 0644 examples/magos.env $(DESTDIR)$(PREFIX)/share/doc/magos-dominus/examples/
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/magos-dominus/
	install -d $(DESTDIR)$(PREFIX)/share/doc/magos-dominus/docs
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/magos-dominus/docs/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/systemd/user
	sed 's|/usr/local|$(PREFIX)|g' contrib/systemd/magos-dominus.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/magos-dominus.service
	sed 's|/usr/local|$(PREFIX)|g' contrib/systemd/magos-dominus-user.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/user/magos-dominus.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/magos-dominus.service \
		$(DESTDIR)$(PREFIX)/lib/systemd/user/magos-dominus.service

clean:
	rm -rf build build-asan
