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

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all test unit integration fuzz-replay fuzz deps demo demo-clean install \
        asan clean bench

all: $(BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(MD_CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIBA)
	$(CC) $(MD_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test links only its own module and util, so each module's tests
# build and run while other modules are being worked on: test_<m>.c and
# test_<m>_<part>.c need internal/<m>/ and internal/util/ (modules listed in
# UNIT_WHOLE link all).
UNIT_WHOLE := test_daemon test_cli test_watcher
unit_module = $(firstword $(subst _, ,$(patsubst test_%,%,$(1))))
unit_objs = $(if $(filter $(1),$(UNIT_WHOLE)),$(LIB_OBJ),\
	$(filter $(BUILD)/obj/internal/$(call unit_module,$(1))/% $(BUILD)/obj/internal/util/%,$(LIB_OBJ)))

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $$(call unit_objs,$$*)
	@mkdir -p $(dir $@)
	$(CC) $(MD_CFLAGS) $(LDFLAGS) -Itests/unit $(shell pkg-config --cflags cmocka) -o $@ $< \
		$(call unit_objs,$*) $(LDLIBS) $(shell pkg-config --libs cmocka)

$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay.c $$(call fuzz_objs,$$*)
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
FUZZ_SEEDS_scan = $(SHARED_FIXTURES)/trivy

# fuzz_<module>.c likewise links only internal/<module>/ and internal/util/.
fuzz_objs = $(filter $(BUILD)/obj/internal/$(patsubst fuzz_%,%,$(1))/% $(BUILD)/obj/internal/util/%,$(LIB_OBJ))

# libFuzzer builds need clang: `make fuzz` then run build/fuzz/fuzz_<name> corpus/.
$(BUILD)/fuzz/%: tests/fuzz/%.c $$(wildcard internal/$$(patsubst fuzz_%,%,$$*)/*.c internal/$$(patsubst fuzz_%,%,$$*)/*.h) $(wildcard internal/util/*.c)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(filter-out -Werror,$(WARN)) \
		-D_GNU_SOURCE -Iinclude $(shell pkg-config --cflags $(PKGS)) -o $@ $< \
		$(wildcard internal/$(patsubst fuzz_%,%,$*)/*.c) internal/util/*.c $(LDLIBS)

fuzz: $(FUZZ_BIN)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

fuzz-replay: $(FUZZ_REPLAY)
	@set -e; $(foreach t,$(FUZZ_REPLAY),m=$(patsubst fuzz_%,%,$(notdir $(t))); \
		echo "== fuzz_$$m"; $(t) tests/fuzz/corpus/$$m $(FUZZ_SEEDS_$(patsubst fuzz_%,%,$(notdir $(t))));)

integration: $(BIN)
	MAGOS_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

# The whole suite: what CI runs (see .ci/run and the README).
test: $(BIN) unit fuzz-replay integration

# Unit and integration tests under AddressSanitizer + UBSan.
asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" test

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
