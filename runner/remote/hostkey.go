package remote

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError reports a host key that known_hosts does not vouch for:
// an unknown host, a changed key or a revoked one. Connecting is refused
// in every case (unknown hosts are accepted only with Config.AcceptNew).
// For an unknown host (Unknown reports true) the message says what the
// host presents; a caller adds how its user can accept the key.
type HostKeyError struct {
	// Host is the host:port whose key was checked.
	Host string
	// KeyType and Fingerprint describe the key the server presented;
	// the fingerprint is SHA256 in OpenSSH's format.
	KeyType     string
	Fingerprint string
	// Changed reports that known_hosts holds a different key for Host;
	// File and Line name that entry.
	Changed bool
	// Revoked reports that the key is marked @revoked at File:Line.
	Revoked bool
	File    string
	Line    int
	// Files are the known_hosts files that were consulted.
	Files []string
}

// Unknown reports whether the host is simply not in known_hosts: no
// other key is recorded for it, nor is its key revoked. Such a key can be
// trusted on first use with Config.AcceptNew, once its fingerprint is
// checked.
func (e *HostKeyError) Unknown() bool { return !e.Changed && !e.Revoked }

// Error says what is wrong with the key; for a changed key, also what
// to do about it.
func (e *HostKeyError) Error() string {
	switch {
	case e.Revoked:
		return fmt.Sprintf("host key of %s (%s %s) is marked @revoked at %s:%d; refusing to connect",
			e.Host, e.KeyType, e.Fingerprint, e.File, e.Line)
	case e.Changed:
		return fmt.Sprintf("WARNING: HOST KEY OF %s HAS CHANGED: it now presents %s %s, "+
			"which does not match %s:%d; someone may be intercepting the connection (man-in-the-middle), "+
			"or the host was reinstalled. Refusing to connect. If you are sure the new key is right, "+
			"remove the old entry (ssh-keygen -R %s -f %s) and connect again",
			e.Host, e.KeyType, e.Fingerprint, e.File, e.Line, knownhosts.Normalize(e.Host), e.File)
	}
	files := "no known_hosts file"
	if len(e.Files) > 0 {
		files = strings.Join(e.Files, ", ")
	}
	return fmt.Sprintf("host %s is not known (not in %s); it presents %s key %s",
		e.Host, files, e.KeyType, e.Fingerprint)
}

// knownHosts is the known_hosts files of one run (a Pool's dials, or
// one Dial's): each set of files is read once, on first use, and shared
// by every dial that names the same set, rather than parsed again (and
// kept) per host. Keys recorded under AcceptNew during the run are kept
// beside the parsed files so that later dials see them. It is safe for
// concurrent use.
type knownHosts struct {
	mu    sync.Mutex
	sets  map[string]*knownHostsSet             // by file names, NUL-joined
	added map[string]map[string][]ssh.PublicKey // file -> normalized host -> keys recorded in this run
}

// knownHostsSet is one parsed set of known_hosts files.
type knownHostsSet struct {
	once sync.Once
	db   *knownhosts.HostKeyDB
	err  error
}

func newKnownHosts() *knownHosts {
	return &knownHosts{sets: map[string]*knownHostsSet{}, added: map[string]map[string][]ssh.PublicKey{}}
}

// db returns the parsed files, reading them on first use. Files that do
// not exist are skipped.
func (kh *knownHosts) db(files []string) (*knownhosts.HostKeyDB, error) {
	key := strings.Join(files, "\x00")
	kh.mu.Lock()
	set := kh.sets[key]
	if set == nil {
		set = &knownHostsSet{}
		kh.sets[key] = set
	}
	kh.mu.Unlock()
	set.once.Do(func() {
		var existing []string
		for _, f := range files {
			if _, err := os.Stat(f); err == nil {
				existing = append(existing, f)
			} else if !errors.Is(err, os.ErrNotExist) {
				set.err = fmt.Errorf("reading known hosts: %w", err)
				return
			}
		}
		set.db, set.err = knownhosts.NewDB(existing...)
		if set.err != nil {
			set.err = fmt.Errorf("reading known hosts: %w (fix or remove the bad line)", set.err)
		}
	})
	return set.db, set.err
}

// recorded returns the keys recorded for hostname in any of files during
// this run.
func (kh *knownHosts) recorded(files []string, hostname string) []ssh.PublicKey {
	name := knownhosts.Normalize(hostname)
	kh.mu.Lock()
	defer kh.mu.Unlock()
	var keys []ssh.PublicKey
	for _, f := range files {
		keys = append(keys, kh.added[f][name]...)
	}
	return keys
}

// remember notes that key was recorded for hostname in file.
func (kh *knownHosts) remember(file, hostname string, key ssh.PublicKey) {
	name := knownhosts.Normalize(hostname)
	kh.mu.Lock()
	defer kh.mu.Unlock()
	if kh.added[file] == nil {
		kh.added[file] = map[string][]ssh.PublicKey{}
	}
	kh.added[file][name] = append(kh.added[file][name], key)
}

// hostKeys checks server keys against known_hosts for one endpoint.
type hostKeys struct {
	kh        *knownHosts
	db        *knownhosts.HostKeyDB
	files     []string // every file read, user files first
	writeTo   string   // where AcceptNew records keys; "" when none
	acceptNew bool
	hash      bool
}

func newHostKeys(ep *endpoint, kh *knownHosts) (*hostKeys, error) {
	hk := &hostKeys{kh: kh, acceptNew: ep.acceptNew, hash: ep.hashKnownHosts}
	if len(ep.knownHosts) > 0 {
		hk.writeTo = ep.knownHosts[0]
	}
	hk.files = append(append([]string(nil), ep.knownHosts...), ep.globalKnownHosts...)
	db, err := kh.db(hk.files)
	if err != nil {
		return nil, err
	}
	hk.db = db
	return hk, nil
}

// algorithms returns the host key algorithms to offer for host:port: the
// types known_hosts holds for it, so that a server with several keys
// presents the one we can check. Nil (any) for unknown hosts.
func (hk *hostKeys) algorithms(hostport string) []string {
	if algos := hk.db.HostKeyAlgorithms(hostport); len(algos) > 0 {
		return algos
	}
	var algos []string
	for _, k := range hk.kh.recorded(hk.files, hostport) {
		if k.Type() == ssh.KeyAlgoRSA {
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
		}
		algos = append(algos, k.Type())
	}
	return algos
}

// callback is the ssh.HostKeyCallback: known_hosts decides, then the
// keys recorded earlier in the run; an unknown host is recorded when
// AcceptNew allows, refused otherwise.
func (hk *hostKeys) callback() ssh.HostKeyCallback {
	check := hk.db.HostKeyCallback()
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		if err == nil {
			return nil
		}
		herr := hk.describe(hostname, key, err)
		if herr == nil {
			return err
		}
		if herr.Changed || herr.Revoked {
			return herr
		}
		if recorded := hk.kh.recorded(hk.files, hostname); len(recorded) > 0 {
			for _, k := range recorded {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return nil
				}
			}
			// Another key was recorded for the host in this run. record
			// re-reads the file, which names the entry that differs;
			// without AcceptNew, read it here for the same.
			if !hk.acceptNew {
				if again, err := knownhosts.NewDB(hk.writeTo); err == nil {
					if d := hk.describe(hostname, key, again.HostKeyCallback()(hostname, remote, key)); d != nil && d.Changed {
						return d
					}
				}
				return herr
			}
		}
		if !hk.acceptNew {
			return herr
		}
		if err := hk.record(hostname, key); err != nil {
			return err
		}
		hk.kh.remember(hk.writeTo, hostname, key)
		return nil
	}
}

// describe turns a known_hosts error into a *HostKeyError, or nil when
// err is something else.
func (hk *hostKeys) describe(hostname string, key ssh.PublicKey, err error) *HostKeyError {
	herr := &HostKeyError{
		Host:        hostname,
		KeyType:     keyTypeName(key),
		Fingerprint: ssh.FingerprintSHA256(key),
		Files:       hk.files,
	}
	var rev *xknownhosts.RevokedError
	var kerr *xknownhosts.KeyError
	switch {
	case errors.As(err, &rev):
		herr.Revoked, herr.File, herr.Line = true, rev.Revoked.Filename, rev.Revoked.Line
	case errors.As(err, &kerr):
		if len(kerr.Want) > 0 {
			herr.Changed, herr.File, herr.Line = true, kerr.Want[0].Filename, kerr.Want[0].Line
			for _, w := range kerr.Want {
				// Prefer the entry of the same key type: that is the one
				// that changed.
				if w.Key.Type() == key.Type() {
					herr.File, herr.Line = w.Filename, w.Line
					break
				}
			}
		}
	default:
		return nil
	}
	return herr
}

// record appends hostname's key to the first known_hosts file, holding an
// exclusive flock on the file so that concurrent gotask (and ssh)
// processes do not interleave lines. It re-reads the file under the lock:
// if another process recorded a key for the host meanwhile, that key
// decides.
func (hk *hostKeys) record(hostname string, key ssh.PublicKey) error {
	if hk.writeTo == "" {
		return fmt.Errorf("host %s is not known and no known_hosts file is configured to record its key %s; set UserKnownHostsFile", hostname, ssh.FingerprintSHA256(key))
	}
	if err := os.MkdirAll(filepath.Dir(hk.writeTo), 0o700); err != nil {
		return fmt.Errorf("recording host key of %s: %w", hostname, err)
	}
	f, err := os.OpenFile(hk.writeTo, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("recording host key of %s: %w", hostname, err)
	}
	defer f.Close()
	if err := flock(f); err != nil {
		return fmt.Errorf("locking %s to record the host key of %s: %w", hk.writeTo, hostname, err)
	}
	// Unlocked by Close.
	if again, err := knownhosts.NewDB(hk.writeTo); err == nil {
		if err := again.HostKeyCallback()(hostname, &net.TCPAddr{}, key); err == nil {
			return nil
		} else if herr := hk.describe(hostname, key, err); herr != nil && (herr.Changed || herr.Revoked) {
			return herr
		}
	}
	if err := ensureNewline(f); err != nil {
		return fmt.Errorf("recording host key of %s in %s: %w", hostname, hk.writeTo, err)
	}
	name := knownhosts.Normalize(hostname)
	if hk.hash {
		name = xknownhosts.HashHostname(name)
	}
	line := name + " " + key.Type() + " " + base64.StdEncoding.EncodeToString(key.Marshal()) + "\n"
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("recording host key of %s in %s: %w", hostname, hk.writeTo, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("recording host key of %s in %s: %w", hostname, hk.writeTo, err)
	}
	return nil
}

// ensureNewline writes a newline if the file is not empty and does not
// end with one, so the appended entry starts on its own line.
func ensureNewline(f *os.File) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, st.Size()-1); err != nil {
		return err
	}
	if last[0] != '\n' {
		_, err = f.WriteString("\n")
	}
	return err
}

// keyTypeName gives the short name OpenSSH prints: ED25519, ECDSA, RSA.
func keyTypeName(k ssh.PublicKey) string {
	t := k.Type()
	if c, ok := k.(*ssh.Certificate); ok {
		t = c.Key.Type()
	}
	switch {
	case strings.Contains(t, "ed25519"):
		return "ED25519"
	case strings.Contains(t, "ecdsa"):
		return "ECDSA"
	case strings.Contains(t, "rsa"):
		return "RSA"
	}
	return t
}
