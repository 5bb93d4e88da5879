package tasks

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	t.Parallel()
	if k := KindOf(fmt.Errorf("ctx: %w", WrapError(KindNotFound, nil, "x"))); k != KindNotFound {
		t.Errorf("wrapped kind: %v", k)
	}
	if k := KindOf(context.Canceled); k != KindDeadline {
		t.Errorf("canceled: %v", k)
	}
	if k := KindOf(errors.New("boom")); k != KindInternal {
		t.Errorf("plain error: %v", k)
	}
	if s := ErrorKind(99).String(); s != "ErrorKind(99)" {
		t.Errorf("unknown kind prints %q", s)
	}
}
