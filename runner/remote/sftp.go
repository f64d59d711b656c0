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
	cn, sess, err := c.openSession(ctx)
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
	replay := &dropInit{WriteCloser: w}
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

// dropInit passes writes through to the session after discarding the
// first SFTP packet, pkg/sftp's INIT, which sftpHandshake has already
// sent.
type dropInit struct {
	io.WriteCloser
	head  []byte // the first packet's length, as it arrives
	skip  uint32 // bytes of the first packet's payload still to drop
	found bool   // the first packet's length is known
}

func (d *dropInit) Write(p []byte) (int, error) {
	n := 0
	for !d.found || d.skip > 0 {
		if len(p) == 0 {
			return n, nil
		}
		if !d.found {
			k := min(4-len(d.head), len(p))
			d.head = append(d.head, p[:k]...)
			p, n = p[k:], n+k
			if len(d.head) == 4 {
				d.found, d.skip = true, binary.BigEndian.Uint32(d.head)
			}
			continue
		}
		k := int(min(uint64(d.skip), uint64(len(p))))
		p, n, d.skip = p[k:], n+k, d.skip-uint32(k)
	}
	if len(p) == 0 {
		return n, nil
	}
	m, err := d.WriteCloser.Write(p)
	return n + m, err
}
