#!/usr/bin/env bash
# Writes every generated file under DIR (default: the repository itself):
# buf/validate/validate.proto printed from the protovalidate runtime, then
# the Go and TypeScript code buf.gen.yaml describes. `make generate` runs it
# on the tree; `make check` runs it into a scratch directory and compares.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.}
buf=web-client/node_modules/.bin/buf

go run ./internal/printvalidate "$out/third_party/protovalidate"
"$buf" format -w "$out/third_party/protovalidate"
"$buf" generate -o "$out"
