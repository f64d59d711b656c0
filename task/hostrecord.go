package task

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// HostsDirName is the directory under StateDirName where a task's result
// on each host is recorded, for --resume and --retry-failed.
const HostsDirName = "hosts"

// hostRecord is what the last run of a task left on one host.
type hostRecord struct {
	// Fingerprint is the hash of the task's definition and argument
	// values, and the host's vars, when it ran: never the values
	// themselves, which may be secrets.
	Fingerprint string    `json:"fingerprint"`
	Result      string    `json:"result"` // a HostResult's Status
	Time        time.Time `json:"time"`
}

// hostRecords reads and writes the records of one task's hosts. A record
// is a file named by a hash of the task's name and the host, holding the
// hash of the definition, the result and the time, in a directory for
// its owner only (mode 0700), as .gotask's other records.
type hostRecords struct {
	dir         string // .gotask/hosts beside tasks.toml
	task        string
	definition  []byte
	fingerprint string // hex sha256 of the task's definition
	reg         *Registry
}

func newHostRecords(e *execution, t *Task, definition []byte) *hostRecords {
	sum := sha256.Sum256(definition)
	return &hostRecords{
		dir:         filepath.Join(e.Registry.Dir, StateDirName, HostsDirName),
		task:        t.Name,
		definition:  definition,
		fingerprint: hex.EncodeToString(sum[:]),
		reg:         e.Registry,
	}
}

// fingerprintOf is the hash of what the task is on host: its definition
// and, when the host has any, the host's vars (host_vars and its groups'
// vars), so that changing one makes --resume run that host again. A host
// without vars keeps the definition's own hash, which records made
// before host vars counted still hold.
func (h *hostRecords) fingerprintOf(host string) string {
	vars := h.reg.HostVarsOf(host)
	if len(vars) == 0 {
		return h.fingerprint
	}
	b, _ := json.Marshal(vars) // a map of strings: cannot fail; keys sorted
	sum := sha256.Sum256(slices.Concat(h.definition, []byte("\x00host vars\x00"), b))
	return hex.EncodeToString(sum[:])
}

// file names the record of host.
func (h *hostRecords) file(host string) string {
	sum := sha256.Sum256([]byte("gotask host record\x00" + h.task + "\x00" + host))
	return filepath.Join(h.dir, hex.EncodeToString(sum[:]))
}

// load returns host's record; ok is false when there is none, or when it
// cannot be read as one (the host then counts as never run).
func (h *hostRecords) load(host string) (rec hostRecord, ok bool, err error) {
	b, err := os.ReadFile(h.file(host))
	if errors.Is(err, fs.ErrNotExist) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("read the record of host %s: %w", host, err)
	}
	if json.Unmarshal(b, &rec) != nil || rec.Result == "" {
		return hostRecord{}, false, nil
	}
	return rec, true, nil
}

// save records host's result with the task's fingerprint. The file is
// written whole under another name and renamed, so a run killed while
// writing leaves the old record or the new one, never half of one.
func (h *hostRecords) save(host, result string) error {
	if err := h.makeDir(); err != nil {
		return err
	}
	b, _ := json.Marshal(hostRecord{Fingerprint: h.fingerprintOf(host), Result: result, Time: time.Now().UTC()}) // plain data
	// CreateTemp makes the file with mode 0600 from the first byte.
	f, err := os.CreateTemp(h.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("record the result of host %s: %w", host, err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), h.file(host))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		_ = os.Remove(h.file(host)) // an old "ok" must not outlive this run
		return fmt.Errorf("record the result of host %s: %w", host, err)
	}
	return nil
}

// makeDir creates .gotask and .gotask/hosts for their owner only, and
// takes group and other permissions away from existing ones.
func (h *hostRecords) makeDir() error {
	if err := os.MkdirAll(h.dir, 0o700); err != nil {
		return fmt.Errorf("make the host records directory: %w", err)
	}
	for _, d := range []string{filepath.Dir(h.dir), h.dir} {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("make the host records directory: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(d, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("make the host records directory private: %w", err)
			}
		}
	}
	return nil
}

// pending drops from targets the hosts that --resume or --retry-failed
// say are done, and says which it dropped and why. --retry-failed keeps
// the hosts whose last run failed, was unreachable or never started
// (skipped, interrupted, or no record); --resume keeps those too and the
// hosts done with another definition or other argument values.
func (e *execution) pending(t *Task, recs *hostRecords, targets []target) ([]target, error) {
	if !e.Resume && !e.RetryFailed {
		return targets, nil
	}
	var kept []target
	var done []string
	for _, tg := range targets {
		rec, ok, err := recs.load(tg.name)
		if err != nil {
			return nil, &TaskError{Task: t.Name, Host: tg.name, Err: err}
		}
		if ok && rec.Result == "ok" && (e.RetryFailed || rec.Fingerprint == recs.fingerprintOf(tg.name)) {
			done = append(done, tg.name)
			continue
		}
		kept = append(kept, tg)
	}
	if len(done) > 0 && (!e.Quiet || e.Dry) {
		why := "done with this definition and these arguments"
		if e.RetryFailed {
			why = "ok last time"
		}
		fmt.Fprintf(orDiscard(e.Stderr), "gotask: task %s: skipping %d of %d hosts, %s: %s\n",
			t.Name, len(done), len(targets), why, strings.Join(done, ", "))
	}
	return kept, nil
}
