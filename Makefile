# bulwark: the two commands in README.md are `make run` and `make check`.
BUILD ?= build
RELEASE ?= build-release
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps build run check release bench fuzz clean

all: build

deps:
	./scripts/deps.sh

build: deps
	cmake --preset asan >/dev/null
	cmake --build $(BUILD)

# Demo of the main job: create a log, append events, print a checkpoint,
# prove an entry and verify the proof offline.
run: build
	./scripts/demo.sh $(BUILD)/bulwark

check: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

release: deps
	cmake --preset release >/dev/null
	cmake --build $(RELEASE)

bench: release
	./scripts/bench.sh $(RELEASE)

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build $(FUZZ_BUILD)
	./scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(RELEASE) $(FUZZ_BUILD)
