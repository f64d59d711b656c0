//go:build unix

package lock

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"deploy", true}, {"web:deploy", true}, {"db-1.migrate_x", true},
		{"", false}, {"-x", false}, {".x", false}, {"a/b", false}, {"../x", false},
		{"a b", false}, {"a;b", false}, {"$(id)", false}, {"a'b", false}, {strings.Repeat("a", 101), false},
	} {
		if got := ValidName(tc.name); got != tc.ok {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

// A host's info file is shown in messages: whatever it holds cannot add
// lines or terminal escapes to them.
func TestHolderFromAHostIsShownHarmlessly(t *testing.T) {
	h := parseHolder("pid=12\nuser=ev\x1b]0;title\x07il\nhost=x\u202ey\x9bz\nsince=0\ntoken=t\n")
	if h == nil {
		t.Fatal("parseHolder rejected a holder")
	}
	s := h.String()
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\x9b", "\n"} {
		if strings.Contains(s, bad) {
			t.Errorf("holder shown as %q, holding %q", s, bad)
		}
	}
	if parseHolder("") != nil || parseHolder("pid=0\ntoken=x\n") != nil || parseHolder("pid=3\n") != nil {
		t.Error("parseHolder took an incomplete info file for a holder")
	}
	me := Me()
	back := parseHolder(me.encode())
	if back == nil || back.Pid != me.Pid || back.Token != me.Token || back.Host != me.Host || back.Boot != me.Boot ||
		!back.Since.Equal(me.Since.Truncate(time.Second)) {
		t.Errorf("encode/parse: %+v became %+v", me, back)
	}
}

func TestTryLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	me := Me()
	l, h, err := TryLocal(dir, "x", me)
	if err != nil || l == nil || h != nil {
		t.Fatalf("TryLocal on a free lock: %v, %v, %v", l, h, err)
	}
	// Another open of the lock (as another process would) finds it held,
	// by me.
	l2, h, err := TryLocal(dir, "x", Me())
	if err != nil || l2 != nil || h == nil || h.Pid != os.Getpid() || h.Token != me.Token {
		t.Fatalf("TryLocal on a held lock: %v, %+v, %v", l2, h, err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l3, _, err := TryLocal(dir, "x", Me())
	if err != nil || l3 == nil {
		t.Fatalf("TryLocal after Unlock: %v, %v", l3, err)
	}
	l3.Unlock()

	// Something planted where the lock file goes, which could hang or
	// redirect gotask, is refused.
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.lock"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := TryLocal(dir, "fifo", Me()); err == nil {
		t.Error("a FIFO was taken as a lock file")
	}
	if err := os.Symlink(filepath.Join(t.TempDir(), "target"), filepath.Join(dir, "link.lock")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := TryLocal(dir, "link", Me()); err == nil {
		t.Error("a symlink was followed to make a lock file")
	}
	if _, _, err := TryLocal(dir, "../x", Me()); err == nil {
		t.Error("a name leaving the directory was accepted")
	}
}
