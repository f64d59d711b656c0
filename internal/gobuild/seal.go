package gobuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// A seal, written beside each binary the Builder stores, records the
// binary's size, modification time and SHA-256, so that a binary cut
// short (a full disk, a killed copy) or changed since it was built is
// not run: it could crash every gotask command, the tasks.toml ones
// included. Checking the size and time costs one stat; the binary is
// hashed only when they differ from the seal (as after a copy of the
// cache), and its seal is then brought up to date.

// sealFile returns the seal's path for the binary at bin.
func sealFile(bin string) string { return bin + ".seal" }

// writeSeal seals the binary at built, which is about to be renamed to
// bin.
func writeSeal(built, bin string) error {
	sum, err := hashFile(built)
	if err != nil {
		return err
	}
	fi, err := os.Stat(built)
	if err != nil {
		return err
	}
	return writeAtomicErr(sealFile(bin), []byte(sealText(fi, sum)))
}

func sealText(fi os.FileInfo, sum string) string {
	return fmt.Sprintf("%d %d %s\n", fi.Size(), fi.ModTime().UnixNano(), sum)
}

// intact reports whether the binary at bin is the one its seal
// describes. A binary without a seal was not stored by this version of
// the Builder, or its seal was lost: it is not trusted.
func intact(bin string) bool {
	data, err := os.ReadFile(sealFile(bin))
	if err != nil {
		return false
	}
	f := strings.Fields(string(data))
	if len(f) != 3 {
		return false
	}
	size, err1 := strconv.ParseInt(f[0], 10, 64)
	mtime, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	fi, err := os.Stat(bin)
	if err != nil || fi.Size() != size {
		return false
	}
	if fi.ModTime().UnixNano() == mtime {
		return true
	}
	sum, err := hashFile(bin)
	if err != nil || sum != f[2] {
		return false
	}
	_ = writeAtomicErr(sealFile(bin), []byte(sealText(fi, sum))) // best effort
	return true
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
