package output

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSpool: what a spool is given comes out whole and in order, from
// memory, from its temporary file, or from memory again when no file can
// be made; the file leaves nothing in $TMPDIR.
func TestSpool(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tmpdir func(t *testing.T) string
	}{
		{"temporary file", func(t *testing.T) string { return t.TempDir() }},
		{"no temporary file can be made", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.tmpdir(t)
			t.Setenv("TMPDIR", dir)
			var want bytes.Buffer
			var s spool
			for i := range 3 * spoolMem / 1000 {
				line := bytes.Repeat([]byte{byte('a' + i%26)}, 999)
				line = append(line, '\n')
				want.Write(line)
				s.write(line)
			}
			var got bytes.Buffer
			if err := s.writeTo(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("got %d bytes back, want the %d written, in order", got.Len(), want.Len())
			}
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				t.Errorf("left in $TMPDIR: %v", left)
			}
		})
	}
}
