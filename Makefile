# Mediation Coordinator. `make run` and `make test` do all the set-up on a fresh Debian 12 with Swift 6.3.
SWIFT ?= swift
BIN := .build/debug

.PHONY: all deps generate python-env build run test crashtest fuzz bench format lint clean

all: build

deps:
	@./scripts/install-deps.sh

generate:
	@./scripts/embed-openapi.sh
	@./scripts/embed-templates.sh

build: deps generate
	$(SWIFT) build

## Runs the daemon in the foreground on the embedded default (state under ./var). Ctrl-C stops it.
run: build
	$(BIN)/mediationd

## The Python peers the tests use (PyJWT, icalendar, aiosmtpd, schemathesis) in ./.venv; quiet when already set up.
python-env: deps
	@./scripts/python-env.sh

## Every test: unit, store, server, live socket, end to end with the real binaries, systemd units. Tests move time
## through the injected clock and assert no wall-clock figure. Two suites run after the rest, each alone: the crash
## harness (booking storms killed with SIGKILL, then every acknowledged notice must arrive within its recovery
## window, which a machine busy with a hundred other daemons and their Python peers can starve), and the
## hostile-input suite (its thousand connections and 10 MB bodies would starve the suites beside it; its short
## schemathesis run has every check on, as make fuzz does).
test: deps generate python-env
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip HostileInputEndToEndTests --skip CrashHarnessTests
	$(SWIFT) test --skip-build --filter CrashHarnessTests
	$(SWIFT) test --skip-build --filter HostileInputEndToEndTests

## The crash harness at full length: booking storms, SIGKILL at random moments, restarts (make test runs 5 cycles).
CRASH_CYCLES ?= 50
crashtest: deps generate python-env
	$(SWIFT) build --build-tests
	CRASH_CYCLES=$(CRASH_CYCLES) $(SWIFT) test --skip-build --filter CrashHarnessTests

## Hostile input at full length: schemathesis with every check (positive and negative data, unsupported methods,
## the stateful checks) over all its phases through a socat bridge, and the abuse cases (10 MB bodies, deep JSON,
## 1,000 idle connections, a slow header). Here, not in make test, the wall-clock figures are asserted: health p99
## under abuse, an idle daemon's processor time, how soon refusals come. Cases, p99 and memory go to stdout.
fuzz: deps generate python-env
	$(SWIFT) build --build-tests
	MEDIATION_FUZZ=full $(SWIFT) test --skip-build --filter HostileInputEndToEndTests

## Benchmarks on a release build; figures go to stdout.
bench: deps generate python-env
	$(SWIFT) build -c release
	.build/release/mediation-bench --bin .build/release
	.venv/bin/python Benchmarks/console_bench.py --bin .build/release

format:
	$(SWIFT) format --in-place --recursive --configuration .swift-format Sources Tests Package.swift

lint:
	$(SWIFT) format lint --recursive --configuration .swift-format Sources Tests

clean:
	rm -rf .build var
