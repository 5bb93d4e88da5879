// Command printvalidate writes buf/validate/validate.proto, printed from the
// descriptor that the protovalidate Go runtime links.
//
// buf needs the file to compile tasks.proto, but the Buf Schema Registry is
// not reachable from every build machine, and a hand-copied file drifts from
// the rules the server enforces. Printing it from the linked descriptor keeps
// the schema, the Go validator and the generated TypeScript on one version:
// bumping buf.build/go/protovalidate in go.mod and running `make generate`
// updates all three.
//
// Usage: go run ./internal/printvalidate DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"

	validate "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/jhump/protoreflect/v2/protoprint"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: printvalidate DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "printvalidate:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	fd := validate.File_buf_validate_validate_proto
	path := filepath.Join(dir, filepath.FromSlash(fd.Path()))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	p := protoprint.Printer{}
	if err := p.PrintProtoFile(fd, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
