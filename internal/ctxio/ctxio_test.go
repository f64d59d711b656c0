package ctxio

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestStopsWhenDone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	r := Reader{ctx, strings.NewReader("abc")}
	w := Writer{ctx, io.Discard}
	if _, err := r.Read(make([]byte, 1)); err != nil {
		t.Fatalf("read before cancel: %v", err)
	}
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatalf("write before cancel: %v", err)
	}
	cancel()
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v, want context.Canceled", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("write after cancel: %v, want context.Canceled", err)
	}
}
