# bulwark: the two commands in README.md are `make run` and `make check`.
BUILD ?= build
RELEASE ?= build-release
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps build run demo man deb check release bench fuzz torture clean

all: build

deps:
	./scripts/deps.sh

build: deps
	cmake --preset asan >/dev/null
	cmake --build $(BUILD)

# The main job on the embedded default: init (first run) + serve on 127.0.0.1:8443.
run: release
	./scripts/run.sh $(RELEASE)/bulwark

# Man pages from the program's own --help into build/man (bulwark.1, bulwark-COMMAND.1).
man: build
	./scripts/man.sh $(BUILD)/bulwark $(BUILD)/man

# The Debian packages into build/deb (docs/OPERATIONS.md).
deb: deps
	./scripts/deb.sh $(BUILD)/deb

# The audit-log demo: create a log, append events, print a checkpoint,
# prove an entry, verify the proof offline, audit.
demo: build
	./scripts/demo.sh $(BUILD)/bulwark

# The agent's attack matrix also runs an unsanitised build under valgrind memcheck
# (reads inside uninstrumented libraries such as libjansson are invisible to ASan).
check: build release
	BULWARK_AGENT_VALGRIND=$(CURDIR)/$(RELEASE)/bulwark ctest --test-dir $(BUILD) --output-on-failure -j2

# The crash test with many more SIGKILL trials (CRASH_TRIALS, default 1000).
torture: build
	CRASH_TRIALS=$${CRASH_TRIALS:-1000} BULWARK=$(BUILD)/bulwark python3 tests/integration/crash_test.py

release: deps
	cmake --preset release >/dev/null
	cmake --build $(RELEASE)

bench: release
	./scripts/bench.sh $(RELEASE)
	./scripts/bench_http.sh $(RELEASE)
	./scripts/bench_patch_e2e.sh $(RELEASE)
	python3 scripts/bench_alert_latency.py $(RELEASE)
	python3 scripts/bench_hostev.py $(RELEASE)
	python3 scripts/bench_hostev_rss.py $(RELEASE)
	python3 scripts/bench_triage.py $(RELEASE)
	python3 scripts/bench_backup.py $(RELEASE)

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build $(FUZZ_BUILD)
	./scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(RELEASE) $(FUZZ_BUILD)
