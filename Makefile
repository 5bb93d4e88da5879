# Every command a developer or CI needs. `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

# buf and protoc-gen-es are pinned by web-client/package-lock.json; the Go
# plugins by the tool directives in go.mod.
BUF := web-client/node_modules/.bin/buf
# Where generated files live; `make check` fails when they are stale.
GENERATED := gen web-client/src/gen third_party/protovalidate internal/tasksgrpc
# Hand-written files among the generated ones.
HANDWRITTEN := aliases.go

.PHONY: generate check lint breaking check-generated fmt-check vet test test-go test-web test-app deps bench fuzz faults

deps: web-client/node_modules/.installed web-client/app/node_modules/.installed

web-client/node_modules/.installed: web-client/package.json web-client/package-lock.json
	cd web-client && npm ci --no-audit --no-fund
	touch $@

web-client/app/node_modules/.installed: web-client/app/package.json web-client/app/package-lock.json
	cd web-client/app && npm ci --no-audit --no-fund
	touch $@

## generate: regenerate buf/validate/validate.proto and all code from proto/.
generate: deps
	scripts/generate.sh

## check: lint, format, breaking changes, freshness of generated code, gofmt, vet.
check: lint breaking check-generated fmt-check vet

lint: deps
	$(BUF) lint
	$(BUF) format -d --exit-code

# The schema is compared with the previous commit: HEAD when proto/ has
# uncommitted changes (a developer before committing), else HEAD~1 (CI on the
# commit it checks). With no earlier schema there is nothing to break.
breaking: deps
	@if [ -n "$$(git status --porcelain -- proto)" ]; then ref=HEAD; else ref=HEAD~1; fi; \
	if git cat-file -e "$$ref:proto/tasks/v1/tasks.proto" 2>/dev/null; then \
		echo "buf breaking against $$ref"; \
		$(BUF) breaking --against ".git#ref=$$ref"; \
	else \
		echo "buf breaking: $$ref has no schema yet; nothing to compare"; \
	fi

# Regenerates into a scratch directory and compares, so it judges the working
# tree as it is and never rewrites it.
check-generated: deps
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	scripts/generate.sh "$$tmp" >/dev/null; \
	stale=0; \
	for d in $(GENERATED); do \
		diff -ruN $(addprefix -x ,$(HANDWRITTEN)) "$$d" "$$tmp/$$d" || stale=1; \
	done; \
	if [ $$stale -ne 0 ]; then echo "generated code is stale: run 'make generate' and commit the result" >&2; exit 1; fi; \
	echo "generated code is fresh"

fmt-check:
	@out=$$(gofmt -l $$(go list -f '{{.Dir}}' ./...)); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

## test: everything CI runs.
test: check test-go test-web test-app

test-go:
	go test -count=1 ./...

# The web client: type-check, then its tests against the real server (built
# from this tree by the tests themselves, through web-client/harness).
test-web: deps
	cd web-client && npm test

# The Next.js reference app in Chromium: builds the client, the app, tasksd
# and pgtest itself, starts PostgreSQL (cmd/pgtest), the API and `next start`.
test-app: deps
	cd web-client/app && npm test

## fuzz: every fuzz target for FUZZTIME each (default 1m), one after
## another; FUZZFLAGS go to each go test (e.g. -parallel=1). Not part of
## test, which runs the committed seeds only.
fuzz:
	FUZZTIME="$(FUZZTIME)" FUZZFLAGS="$(FUZZFLAGS)" scripts/fuzz.sh

## faults: the fault suite against real processes: kill -9 under writers
## (PostgreSQL and SQLite), PostgreSQL restarted, crashed and down under
## writers, slow-client attacks beside a normal user; RELIABILITY.md has
## its figures. About five minutes; not part of test (TestKillUnderWriters
## is its short form there).
faults:
	scripts/faults.sh

## bench: a short load test on loopback (throwaway PostgreSQL, a freshly
## built server, the pgbench ceiling, h2load), written into BENCHMARKS.md.
## About eight minutes (BENCH_WATCH=0 skips the watch scenario, three and a
## half of them); needs pgbench and h2load (apt-get install
## postgresql-client nghttp2-client). Not part of test.
bench:
	bench/run.sh
