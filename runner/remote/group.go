package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// How a stopped command's processes are found on the host.
//
// sshd starts the login shell of every session as the leader of a new
// session and process group (setsid), and every process the command
// starts stays in that group unless it moves itself out. sshd can signal
// that group (the "signal" channel request), but only while the shell is
// alive, and not at all for root logins: a background child that ignores
// the signal, or that outlives the shell, would keep running. So each
// command line starts by reporting the shell's process id, which is the
// group's id, on stderr (the pty, with one), and a command that has to be
// stopped is stopped by `kill -s SIG -- -PGID` run in a second session.
// The report is taken out of the output before anyone sees it.
//
// With a POSIX login shell (sh, bash, dash, zsh, ksh ...) the report is
// a builtin echo and costs no process. Until the Client knows the login
// shell, and with any other (fish, csh), a small sh prints it: its
// parent is the login shell, and it names the shell so that later
// commands can use the cheap form.

// pidTag starts the report line: "gotask-pid NONCE PID [SHELL]".
const pidTag = "gotask-pid "

// maxReportLine bounds the bytes held back while a report line is
// incomplete; a longer "line" is not a report.
const maxReportLine = 512

// Login shell kinds, as learnt from a report.
const (
	shellUnknown int32 = iota
	shellPOSIX
	shellOther
)

// newNonce returns the random word that makes a Client's reports
// unguessable to the commands whose output it scans.
func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// reportPrefix is what goes before every command line: it makes the
// login shell report its process id.
func (c *Client) reportPrefix() string {
	tag := pidTag + c.nonce
	if c.shell.Load() == shellPOSIX {
		return "echo " + tag + " $$ >&2; "
	}
	return "sh -c 'echo " + tag + ` $PPID "$SHELL" >&2'; `
}

// learnShell records the login shell a report named, and tells the
// persist mux when the report came over a connection of its, for the
// later runs that connection serves.
func (c *Client) learnShell(cn *conn, shellPath string) {
	kind := "other"
	switch path.Base(shellPath) {
	case "sh", "bash", "dash", "ash", "zsh", "ksh", "ksh93", "mksh", "pdksh", "yash", "posh":
		kind = "posix"
	}
	c.shell.Store(muxShellKinds[kind])
	if cn != nil && cn.viaMux {
		// No reply awaited: sent before anything this run does later on
		// the connection, its close included, the mux has it first.
		_, _, _ = cn.client.SendRequest(muxShellReq, false, []byte(kind))
	}
}

// minStopWait is the least time given to a step of stopping a command
// that involves the host (the report arriving, a kill in a second
// session) on a busy host or link, however short the grace period.
const minStopWait = 5 * time.Second

// stopWait bounds each step of stopping a command that waits on the
// host; it only matters when the host is slow to answer.
func (c *Client) stopWait() time.Duration {
	return max(c.cfg.stopGrace(), minStopWait)
}

// signalGroup sends the signal sig ("TERM", "KILL" ...) to the process
// group pgid on the host, from a session of its own, and waits for the
// kill to have run, at most stopWait. ctx's values are kept, its
// cancellation is not: this is how a cancelled command is stopped.
func (c *Client) signalGroup(ctx context.Context, pgid int, sig string) {
	if pgid <= 1 {
		return // never "every process" (-1)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.stopWait())
	defer cancel()
	cn, sess, err := c.openSession(ctx, false)
	if err != nil {
		return
	}
	defer c.release(cn)
	defer sess.Close()
	// Through sh, whatever the login shell: its kill takes -- and a
	// negative id for a group everywhere.
	done := make(chan error, 1)
	go func() { done <- sess.Run(fmt.Sprintf("sh -c 'kill -s %s -- -%d'", sig, pgid)) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// pidScanner takes the report line out of the stream it arrives on and
// hands over the process id. Bytes before the report (a login script's
// output) pass through; after the report it costs nothing.
type pidScanner struct {
	tag     []byte // pidTag + nonce + " "
	pending []byte // held back: may be (the start of) the report
	done    bool
	min     int // the least number taken: 2 for a pid, 0 for an exit status
	found   func(pid int, shell string)
}

func newPIDScanner(nonce string, found func(pid int, shell string)) *pidScanner {
	return &pidScanner{tag: []byte(pidTag + nonce + " "), min: 2, found: found}
}

// filter returns what of b, after the bytes held back before it, is
// output.
func (s *pidScanner) filter(b []byte) []byte {
	if s.done {
		return b
	}
	buf := append(s.pending, b...)
	s.pending = nil
	i := bytes.Index(buf, s.tag)
	if i < 0 {
		keep := partialPrefix(buf, s.tag)
		s.pending = append([]byte(nil), buf[len(buf)-keep:]...)
		return buf[:len(buf)-keep]
	}
	end := bytes.IndexByte(buf[i:], '\n')
	if end < 0 {
		if len(buf)-i > maxReportLine {
			s.done = true
			return buf
		}
		s.pending = append([]byte(nil), buf[i:]...)
		return buf[:i]
	}
	s.done = true
	line := strings.TrimSuffix(string(buf[i+len(s.tag):i+end]), "\r")
	pidText, shellPath, _ := strings.Cut(line, " ")
	if pid, err := strconv.Atoi(pidText); err == nil && pid >= s.min {
		s.found(pid, shellPath)
	}
	return append(buf[:i], buf[i+end+1:]...)
}

// flush returns what is still held back, at the end of the stream.
func (s *pidScanner) flush() []byte {
	s.done = true
	p := s.pending
	s.pending = nil
	return p
}

// partialPrefix returns the length of the longest end of b that is a
// proper beginning of tag.
func partialPrefix(b, tag []byte) int {
	for n := min(len(tag)-1, len(b)); n > 0; n-- {
		if bytes.HasSuffix(b, tag[:n]) {
			return n
		}
	}
	return 0
}
