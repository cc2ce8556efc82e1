# kemu: the two commands a user needs are `make run` and `make check`.
# Everything real happens in Meson; this file only sequences the steps.

BUILD ?= build
GUEST_DIR ?= $(or $(KEMU_GUEST_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kemu/guest)
export KEMU_GUEST_DIR := $(GUEST_DIR)

.PHONY: all deps build run check check-slow bench guest clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	@scripts/deps.sh
	meson setup $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

guest: deps
	scripts/build-guest.sh

# Boots the demo guest (Debian kernel + busybox) on the terminal.
run: build guest
	scripts/run-demo.sh $(BUILD)/kemu

# Every test: unit tests, bare test kernels, booted guests.
check: build guest
	meson test -C $(BUILD) --print-errorlogs --no-suite slow --no-suite reference

# Long runs (lockstep, fuzzing, soak, the QEMU reference runs): not in CI.
check-slow: build guest
	meson test -C $(BUILD) --print-errorlogs --suite slow --suite reference

bench: build guest
	@scripts/deps.sh --bench
	bench/startup.sh $(BUILD)/kemu
	bench/soft.sh $(BUILD)/kemu

clean:
	rm -rf $(BUILD)
