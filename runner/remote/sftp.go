package remote

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/pkg/sftp"
)

// SFTP data per READ or WRITE request. pkg/sftp sends 32 KiB, which every
// server takes. OpenSSH's own scp and sftp ask a server that offers
// limits@openssh.com (OpenSSH 8.7 and later) for its limits and use up to
// 255 KiB, which moves the same bytes in an eighth of the requests and
// replies: a put or get of 200 MB costs about a fifth less CPU here.
const (
	defaultPacket = 32 << 10
	maxPacket     = 255 << 10 // OpenSSH's limit; more buys nothing
	// inFlight is the data outstanding per file during a transfer, as
	// requests of the packet size (at most pkg/sftp's 64), and so what
	// pkg/sftp holds in buffers for it. The SSH channel window (2 MiB in
	// both x/crypto/ssh and OpenSSH) bounds what is on the wire; 4 MiB
	// measured a little faster than 2 MiB.
	inFlight = 4 << 20
)

// sftp opens an SFTP session, counted against the session bound like a
// command. done closes it.
func (c *Client) sftp(ctx context.Context) (*sftp.Client, func(), error) {
	cn, sess, err := c.openSession(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() {
		sess.Close()
		c.release(cn)
	}
	fail := func(err error) (*sftp.Client, func(), error) {
		closeAll()
		return nil, nil, fmt.Errorf("opening SFTP on %s: %w", c.name, err)
	}
	w, err := sess.StdinPipe()
	if err != nil {
		return fail(err)
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		return fail(fmt.Errorf("%w; enable the sftp subsystem in the host's sshd_config", err))
	}
	packet, r, w, err := sftpHandshake(r, w)
	if err != nil {
		return fail(err)
	}
	sc, err := sftp.NewClientPipe(r, w,
		sftp.MaxPacketUnchecked(packet),
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
		sftp.MaxConcurrentRequestsPerFile(min(inFlight/packet, 64)),
	)
	if err != nil {
		return fail(err)
	}
	return sc, func() {
		sc.Close()
		closeAll()
	}, nil
}

// SFTP version 3 packet types and the extension sftpHandshake uses
// (draft-ietf-secsh-filexfer-02; OpenSSH's PROTOCOL, section 4.8).
const (
	fxpInit          = 1
	fxpVersion       = 2
	fxpStatus        = 101
	fxpExtended      = 200
	fxpExtendedReply = 201
	limitsExtension  = "limits@openssh.com"
)

// sftpHandshake does the SFTP version exchange on the subsystem's
// streams, which pkg/sftp would do, and asks a server that offers
// limits@openssh.com for its limits (pkg/sftp has no way to send that
// request). It returns the data length for READ and WRITE requests:
// the server's limits up to maxPacket, or defaultPacket from a server
// that states none. The streams it returns are for pkg/sftp, which
// starts with the exchange again: its INIT is dropped, and it reads the
// server's VERSION once more.
func sftpHandshake(r io.Reader, w io.WriteCloser) (packet int, pr io.Reader, pw io.WriteCloser, err error) {
	if err := writePacket(w, []byte{fxpInit, 0, 0, 0, 3}); err != nil { // version 3
		return 0, nil, nil, err
	}
	version, err := readPacket(r)
	if err != nil {
		return 0, nil, nil, err
	}
	replay := &filter{WriteCloser: w}
	pr = io.MultiReader(bytes.NewReader(framed(version)), r)
	if version[0] != fxpVersion {
		// pkg/sftp says what is wrong.
		return defaultPacket, pr, replay, nil
	}
	if !hasExtension(version[5:], limitsExtension) {
		return defaultPacket, pr, replay, nil
	}
	const id = 1 // before any of pkg/sftp's requests
	req := binary.BigEndian.AppendUint32([]byte{fxpExtended}, id)
	req = binary.BigEndian.AppendUint32(req, uint32(len(limitsExtension)))
	req = append(req, limitsExtension...)
	if err := writePacket(w, req); err != nil {
		return 0, nil, nil, err
	}
	reply, err := readPacket(r)
	if err != nil {
		return 0, nil, nil, err
	}
	switch {
	case reply[0] == fxpStatus: // refused after all
		return defaultPacket, pr, replay, nil
	case reply[0] != fxpExtendedReply || len(reply) < 1+4+4*8 || binary.BigEndian.Uint32(reply[1:]) != id:
		return 0, nil, nil, fmt.Errorf("malformed reply to %s (packet type %d, %d bytes)", limitsExtension, reply[0], len(reply))
	}
	// max-packet-length, max-read-length, max-write-length; zero means
	// the server does not say.
	maxLen := binary.BigEndian.Uint64(reply[5:])
	maxRead := binary.BigEndian.Uint64(reply[13:])
	maxWrite := binary.BigEndian.Uint64(reply[21:])
	if maxRead == 0 || maxWrite == 0 || maxLen == 0 {
		return defaultPacket, pr, replay, nil
	}
	// A WRITE carries up to 1 KiB besides the data (its handle is at
	// most 256 bytes).
	n := min(maxRead, maxWrite, max(maxLen, 1024)-1024, maxPacket)
	if n == 0 {
		return defaultPacket, pr, replay, nil
	}
	return int(n), pr, replay, nil
}

// hasExtension reports whether the extension pairs of a VERSION packet
// name ext.
func hasExtension(pairs []byte, ext string) bool {
	for len(pairs) > 0 {
		name, rest, ok := cutString(pairs)
		if !ok {
			return false
		}
		_, rest, ok = cutString(rest)
		if !ok {
			return false
		}
		if string(name) == ext {
			return true
		}
		pairs = rest
	}
	return false
}

// cutString splits an SFTP string (uint32 length, bytes) off b.
func cutString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(len(b)-4) < uint64(n) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// maxHandshakePacket bounds the VERSION and limits packets read.
const maxHandshakePacket = 256 << 10

// readPacket reads one SFTP packet and returns its payload (type byte
// first).
func readPacket(r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the SFTP server closed the session: %w", io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n < 5 || n > maxHandshakePacket {
		return nil, fmt.Errorf("SFTP packet of %d bytes during the version exchange", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// writePacket writes payload as one SFTP packet.
func writePacket(w io.Writer, payload []byte) error {
	_, err := w.Write(framed(payload))
	return err
}

// framed is payload with its uint32 length before it.
func framed(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// SFTP version 3 requests and flags that filter rewrites.
const (
	fxpOpen        = 3
	fxpMkdir       = 14
	fxfCreat       = 0x08 // SSH_FXF_CREAT
	attrPerms      = 0x04 // SSH_FILEXFER_ATTR_PERMISSIONS
	newFilePerm    = 0o600
	newDirPerm     = 0o700
	maxRewritePath = 64 << 10 // longer requests pass unchanged
)

// filter sits between pkg/sftp and the session. It discards the first
// SFTP packet, pkg/sftp's INIT, which sftpHandshake has already sent. And
// it makes files and directories private from the moment they exist:
// pkg/sftp sends OPEN with SSH_FXF_CREAT, and MKDIR, with no attributes,
// so the server creates them with its umask (0644, 0755 as a rule) and a
// secret being uploaded is readable by others until the caller's chmod
// after the last byte. The filter asks for mode 0600 for a new file and
// 0700 for a new directory; Put then sets the final mode. (pkg/sftp has
// no way to send those attributes itself.)
type filter struct {
	io.WriteCloser
	started bool   // the INIT has gone by
	head    []byte // the current packet's length and type, as they arrive
	left    uint32 // bytes of the current packet still to come after head
	hold    bool   // the current packet is an OPEN or MKDIR, kept in held
	held    []byte
}

func (f *filter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(f.head) < 5 {
			k := min(5-len(f.head), len(p))
			f.head, p = append(f.head, p[:k]...), p[k:]
			if len(f.head) < 5 {
				break
			}
			length := binary.BigEndian.Uint32(f.head)
			f.left = max(length, 1) - 1
			typ := f.head[4]
			f.hold = f.started && (typ == fxpOpen || typ == fxpMkdir) && length < maxRewritePath
			switch {
			case !f.started:
				// dropped, as the rest of the packet will be
			case f.hold:
				f.held = append(f.held[:0], f.head...)
			default:
				if _, err := f.WriteCloser.Write(f.head); err != nil {
					return 0, err
				}
			}
		} else {
			k := int(min(uint64(f.left), uint64(len(p))))
			switch {
			case !f.started:
			case f.hold:
				f.held = append(f.held, p[:k]...)
			default:
				if _, err := f.WriteCloser.Write(p[:k]); err != nil {
					return 0, err
				}
			}
			p, f.left = p[k:], f.left-uint32(k)
		}
		if len(f.head) == 5 && f.left == 0 {
			if f.hold {
				if _, err := f.WriteCloser.Write(private(f.held)); err != nil {
					return 0, err
				}
			}
			f.started, f.hold, f.head = true, false, f.head[:0]
		}
	}
	return n, nil
}

// private returns the OPEN or MKDIR packet pkt (length first) asking for
// a private mode when it creates something and names no attributes; any
// other packet is returned as it is.
func private(pkt []byte) []byte {
	typ := pkt[4]
	_, rest, ok := cutString(pkt[9:]) // after length, type and id
	if !ok {
		return pkt
	}
	perm := uint32(newDirPerm)
	if typ == fxpOpen {
		if len(rest) < 4 || binary.BigEndian.Uint32(rest)&fxfCreat == 0 {
			return pkt
		}
		rest, perm = rest[4:], newFilePerm
	}
	if len(rest) != 4 || binary.BigEndian.Uint32(rest) != 0 {
		return pkt // attributes already given, or not understood
	}
	out := append([]byte(nil), pkt[:len(pkt)-4]...)
	out = binary.BigEndian.AppendUint32(out, attrPerms)
	out = binary.BigEndian.AppendUint32(out, perm)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}
