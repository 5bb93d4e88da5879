#!/usr/bin/env bash
# Runs every fuzz target of the module (`go test -list` finds them, so a new
# one needs no entry here) for FUZZTIME each, one after another: -fuzz takes
# one target at a time. FUZZFLAGS go to each `go test` (e.g. -parallel=1 on
# a shared machine). Each new input the fuzzer keeps is shrunk for at most
# 10s, not Go's 60s, which on these targets took most of a short run. A failing input is written under its package's
# testdata/fuzz/<target>/; commit it once fixed, as a regression seed. The
# inputs found on the way stay in Go's cache ($(go env GOCACHE)/fuzz), not
# in the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-1m}
read -r -a flags <<<"-fuzzminimizetime=10s ${FUZZFLAGS:-}"

# `go test -list` prints a package's matching names, then its "ok" line.
mapfile -t targets < <(go test -list '^Fuzz' ./... | awk '
	/^ok / { for (i = 0; i < n; i++) print $2, names[i]; n = 0; next }
	/^Fuzz/ { names[n++] = $1 }')
if [ ${#targets[@]} -eq 0 ]; then
	echo "no fuzz targets found" >&2
	exit 1
fi

failed=()
for t in "${targets[@]}"; do
	pkg=${t% *} name=${t#* }
	echo "== $name ($pkg) for $fuzztime"
	if ! go test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" "${flags[@]}" "$pkg"; then
		failed+=("$name")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz targets that failed: ${failed[*]}" >&2
	exit 1
fi
