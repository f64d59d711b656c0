package lock

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// Holder says who holds a lock.
type Holder struct {
	Pid   int       // the holding gotask's process id
	User  string    // the user it runs as
	Host  string    // the machine it runs on (its host name)
	Boot  string    // that machine's boot id (Linux), so that a machine of the same name is not taken for this one
	Since time.Time // when it took the lock
	Token string    // random, unique to this holding: a remote lock is removed only by the holder whose token it holds
}

// Me describes this process as a holder from now on, with a fresh token.
func Me() Holder {
	h := Holder{Pid: os.Getpid(), Since: time.Now(), Token: token()}
	if u, err := user.Current(); err == nil {
		h.User = u.Username
	} else {
		h.User = strconv.Itoa(os.Getuid())
	}
	h.Host, _ = os.Hostname()
	h.Boot = bootID()
	return h
}

// bootID returns this boot's random id on Linux, "" elsewhere.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// sameMachine reports whether h was written on this machine, since its
// last boot: only then can its pid be looked up here.
func (h *Holder) sameMachine(me Holder) bool {
	return me.Host != "" && h.Host == me.Host && h.Boot == me.Boot
}

func token() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// String describes the holder for a message: "pid 123 (alice, since
// 12:01:02)", with the host when it is another machine's and the day
// when it is not today.
func (h *Holder) String() string {
	if h == nil || h.Pid == 0 {
		return "another gotask (it has not said who it is yet)"
	}
	since := h.Since.Local()
	when := since.Format("15:04:05")
	if y, m, d := since.Date(); y != time.Now().Year() || m != time.Now().Month() || d != time.Now().Day() {
		when = since.Format("2006-01-02 15:04:05")
	}
	me, _ := os.Hostname()
	who := h.User
	if h.Host != "" && h.Host != me {
		who += "@" + h.Host
	}
	return fmt.Sprintf("pid %d (%s, since %s)", h.Pid, who, when)
}

// encode writes the holder as the lines of a lock's info file.
func (h *Holder) encode() string {
	return fmt.Sprintf("pid=%d\nuser=%s\nhost=%s\nboot=%s\nsince=%d\ntoken=%s\n",
		h.Pid, oneLine(h.User), oneLine(h.Host), oneLine(h.Boot), h.Since.Unix(), h.Token)
}

// oneLine keeps a value from adding lines of its own to an info file,
// and one read from a host from moving the cursor or changing the
// terminal when it is shown: control characters (C0, DEL, C1) and bidi
// overrides become '?', and it is cut at 100 bytes.
func oneLine(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r < ' ', r == 0x7f, 0x80 <= r && r <= 0x9f,
			0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069, r == 0xfffd:
			return '?'
		}
		return r
	}, s)
}

// parseHolder reads an info file; nil when it names no holder (empty,
// or cut short while being written).
func parseHolder(data string) *Holder {
	var h Holder
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch k {
		case "pid":
			h.Pid, _ = strconv.Atoi(v)
		case "user":
			h.User = oneLine(v)
		case "host":
			h.Host = oneLine(v)
		case "boot":
			h.Boot = oneLine(v)
		case "since":
			n, _ := strconv.ParseInt(v, 10, 64)
			h.Since = time.Unix(n, 0)
		case "token":
			h.Token = v
		}
	}
	if h.Pid <= 0 || h.Token == "" {
		return nil
	}
	return &h
}

// ValidName reports whether name may name a lock: letters, digits and
// '-', '_', '.', ':', starting with a letter or digit, at most 100
// bytes, so that it is a plain file name here and a plain word in a
// shell on a host.
func ValidName(name string) bool {
	if name == "" || len(name) > 100 {
		return false
	}
	for i, r := range name {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case i > 0 && (r == '-' || r == '_' || r == '.' || r == ':'):
		default:
			return false
		}
	}
	return true
}
