package capture

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// TestSinkCaptures feeds a stream in chunks of many sizes and checks the
// capture against the stream itself: its first bytes for a positive
// Capture, its last runner.TailCapture bytes by default, nothing when
// turned off, and Truncated exactly when some of it was not kept.
func TestSinkCaptures(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 100, runner.TailCapture - 1, runner.TailCapture, runner.TailCapture + 1, 3 * runner.TailCapture, 100 << 10} {
		for _, capture := range []int{0, -1, 1, 4096, 10 << 10} {
			for _, maxChunk := range []int{1, 7, runner.TailCapture, 3 * runner.TailCapture, 64 << 10} {
				if size > 20<<10 && maxChunk < 100 {
					continue // the same paths, slower
				}
				stream := make([]byte, size)
				for i := range stream {
					stream[i] = byte(rng.IntN(256))
				}
				var live bytes.Buffer
				s := NewSink(responder.Stdout, &runner.Cmd{Capture: capture}, &live, nil, nil)
				for rest := stream; len(rest) > 0; {
					n := min(len(rest), 1+rng.IntN(maxChunk))
					s.Handle(rest[:n])
					rest = rest[n:]
				}
				got, truncated := s.Detach()
				var want []byte
				switch {
				case capture == 0:
					want = stream[max(0, size-runner.TailCapture):]
				case capture > 0:
					want = stream[:min(size, capture)]
				}
				wantTrunc := len(want) < size && capture >= 0
				name := fmt.Sprintf("size %d, Capture %d, chunks up to %d", size, capture, maxChunk)
				if !bytes.Equal(got, want) {
					t.Errorf("%s: captured %d bytes, not the %d wanted", name, len(got), len(want))
				}
				if truncated != wantTrunc {
					t.Errorf("%s: Truncated = %v, want %v", name, truncated, wantTrunc)
				}
				if !bytes.Equal(live.Bytes(), stream) {
					t.Errorf("%s: streamed %d bytes, not the whole %d", name, live.Len(), size)
				}
			}
		}
	}
}
