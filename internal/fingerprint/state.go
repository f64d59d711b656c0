package fingerprint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// A record is what a state file holds: the fingerprint recorded after
// the last successful run of one key, and the stat information and sum
// of each source file for the fast path.
type record struct {
	key   string   // keyID of the key
	def   [32]byte // SHA-256 of Spec.Definition
	sum   [32]byte // the fingerprint: see fingerprintOf
	files []entry  // in cmpPath order, all known
	mtime int64    // the state file's own modification time (ns); not stored
}

// stateMagic starts every state file; its last byte is the format version.
const stateMagic = "gotask-fingerprint\x00\x02"

// castagnoli builds the CRC table on first use, not at package init:
// every gotask start would otherwise pay for it, checked or not.
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// encode returns the state file contents for r. The format (version 2),
// integers as unsigned varints unless said otherwise:
//
//	magic   "gotask-fingerprint\x00\x02"
//	key     length, bytes: the keyID (version 1 held the key itself)
//	def     32 bytes: SHA-256 of the definition
//	sum     32 bytes: the fingerprint
//	n       number of files, then n times:
//	  path  length, bytes (slash-separated, relative; in cmpPath order)
//	  size, mtime (signed varint, ns), ctime (signed varint, ns), inode
//	  hash  32 bytes: SHA-256 of the contents
//	crc     4 bytes, little-endian: CRC-32C of everything before it
func (r *record) encode() []byte {
	n := len(stateMagic) + 2*binary.MaxVarintLen64 + len(r.key) + 64 + 4
	for i := range r.files {
		n += len(r.files[i].path) + 5*binary.MaxVarintLen64 + 32
	}
	b := make([]byte, 0, n)
	b = append(b, stateMagic...)
	b = binary.AppendUvarint(b, uint64(len(r.key)))
	b = append(b, r.key...)
	b = append(b, r.def[:]...)
	b = append(b, r.sum[:]...)
	b = binary.AppendUvarint(b, uint64(len(r.files)))
	for i := range r.files {
		e := &r.files[i]
		b = binary.AppendUvarint(b, uint64(len(e.path)))
		b = append(b, e.path...)
		b = binary.AppendUvarint(b, uint64(e.st.size))
		b = binary.AppendVarint(b, e.st.mtime)
		b = binary.AppendVarint(b, e.st.ctime)
		b = binary.AppendUvarint(b, e.st.ino)
		b = append(b, e.sum[:]...)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli()))
}

// errCorrupt is wrapped by decode's errors.
var errCorrupt = errors.New("corrupt state file")

// decode parses a state file. The paths of the entries share the memory
// of one string copied from data.
func decode(data []byte) (*record, error) {
	if len(data) < len(stateMagic)+4 || string(data[:len(stateMagic)]) != stateMagic {
		return nil, fmt.Errorf("%w: not a version 1 state file", errCorrupt)
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli()) != binary.LittleEndian.Uint32(data[len(body):]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	d := decoder{s: string(body), off: len(stateMagic)}
	r := &record{}
	r.key = d.str()
	copy(r.def[:], d.bytes(32))
	copy(r.sum[:], d.bytes(32))
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.s)-d.off)/(32+5) {
		d.err = fmt.Errorf("%w: bad file count", errCorrupt)
	}
	if d.err == nil {
		r.files = make([]entry, n)
	}
	for i := range r.files {
		e := &r.files[i]
		e.path = d.str()
		e.st.size = int64(d.uvarint())
		e.st.mtime = d.varint()
		e.st.ctime = d.varint()
		e.st.ino = d.uvarint()
		copy(e.sum[:], d.bytes(32))
		e.known = true
		if d.err != nil {
			break
		}
		if i > 0 && cmpPath(r.files[i-1].path, e.path) >= 0 {
			d.err = fmt.Errorf("%w: paths out of order", errCorrupt)
			break
		}
	}
	if d.err == nil && d.off != len(d.s) {
		d.err = fmt.Errorf("%w: trailing bytes", errCorrupt)
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}

// decoder reads the fields of a state file.
type decoder struct {
	s   string
	off int
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated", errCorrupt)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	var s uint
	for i := 0; d.off+i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[d.off+i]
		if c < 0x80 {
			d.off += i + 1
			return x | uint64(c)<<s
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	d.fail()
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) bytes(n int) string {
	if d.err != nil || n > len(d.s)-d.off {
		d.fail()
		return ""
	}
	s := d.s[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.fail()
		return ""
	}
	return d.bytes(int(n))
}

// keyID is what a Store keeps of a key: its SHA-256, never the key,
// which may hold secrets.
func keyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return string(sum[:])
}

// stateName returns the file name of the state of the key whose keyID
// is id: 64 hex digits.
func stateName(id string) string {
	return hex.EncodeToString([]byte(id))
}

// isOldStateName reports whether name is that of a state file of format
// version 1: a prefix made of the key's safe characters, "-", 32 hex
// digits (and ".tmp" suffixes of a save cut short).
func isOldStateName(name string) bool {
	base := name
	if rest, ok := strings.CutSuffix(name, ".tmp"); ok {
		i := strings.LastIndexByte(rest, '.')
		if i < 0 {
			return false
		}
		base = rest[:i]
	}
	i := strings.LastIndexByte(base, '-')
	if i < 0 || len(base)-i-1 != 32 {
		return false
	}
	for _, c := range base[i+1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	for _, c := range base[:i] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// maxRecordSize bounds what load reads: a record takes about 100 bytes a
// source file, so this allows over a million sources, and a file larger
// than that is not one of ours.
const maxRecordSize = 128 << 20

// Forget removes key's state, so that a task that starts to run is no
// longer up to date until it succeeds: a failed run must not leave an
// older success standing.
func (s *Store) Forget(key string) error {
	err := os.Remove(filepath.Join(s.Dir, stateName(keyID(key))))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("forgetting state: %w", err)
	}
	return nil
}

// load reads key's state file. It returns nil and no error when there is
// none, and an error wrapping errCorrupt when it cannot be parsed.
func (s *Store) load(key string) (*record, error) {
	// O_NONBLOCK: a FIFO in the record's place must not hang gotask.
	f, err := os.OpenFile(filepath.Join(s.Dir, stateName(key)), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", errCorrupt, f.Name())
	}
	if fi.Size() > maxRecordSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than a record can be (%d)", errCorrupt, f.Name(), fi.Size(), maxRecordSize)
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errCorrupt, f.Name(), err)
	}
	r, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if r.key != key {
		return nil, fmt.Errorf("%w: %s holds the state of another key", errCorrupt, f.Name())
	}
	r.mtime = fi.ModTime().UnixNano()
	return r, nil
}

// save writes r as key's state file, atomically: a temporary file in the
// state directory, renamed over the old state. It does not fsync: a state
// file cut short by a crash fails its checksum and counts as no record.
func (s *Store) save(r *record) error {
	if err := s.mkdir(); err != nil {
		return fmt.Errorf("recording state: %w", err)
	}
	name := stateName(r.key)
	f, err := os.CreateTemp(s.Dir, name+".*.tmp")
	if err != nil {
		return fmt.Errorf("recording state: %w", err)
	}
	_, err = f.Write(r.encode())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(s.Dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("recording state: %w", err)
	}
	return nil
}

// mkdir makes the state directory, for its owner only, and takes group
// and other permissions away from one that has them: version 1 made it
// 0755, with file names that could show arguments. It removes the state
// files of version 1, which are never read again.
func (s *Store) mkdir() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(s.Dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(s.Dir, fi.Mode().Perm()&0o700); err != nil {
		return fmt.Errorf("making %s private: %w", s.Dir, err)
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && isOldStateName(e.Name()) {
			os.Remove(filepath.Join(s.Dir, e.Name()))
		}
	}
	return nil
}
