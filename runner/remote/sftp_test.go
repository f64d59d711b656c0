package remote

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pkg/sftp"

	"github.com/gotask/gotask/internal/sshtest"
)

// sftpString is s as an SFTP string.
func sftpString(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}

// versionPacket is a VERSION payload offering the named extensions.
func versionPacket(exts ...string) []byte {
	p := []byte{fxpVersion, 0, 0, 0, 3}
	for _, e := range exts {
		p = append(p, sftpString(e)...)
		p = append(p, sftpString("1")...)
	}
	return p
}

// limitsReply is an EXTENDED_REPLY to request 1 with the given
// max-packet-length, max-read-length, max-write-length and
// max-open-handles.
func limitsReply(l ...uint64) []byte {
	p := binary.BigEndian.AppendUint32([]byte{fxpExtendedReply}, 1)
	for _, v := range l {
		p = binary.BigEndian.AppendUint64(p, v)
	}
	return p
}

// TestSFTPHandshake plays SFTP servers that do or do not state their
// limits against sftpHandshake, and checks the packet size it picks, the
// requests it sends, and the streams it leaves for pkg/sftp: the
// server's VERSION to read again, and pkg/sftp's INIT dropped.
func TestSFTPHandshake(t *testing.T) {
	t.Parallel()
	limitsRequest := append(binary.BigEndian.AppendUint32([]byte{fxpExtended}, 1), sftpString(limitsExtension)...)
	tests := []struct {
		name       string
		version    []byte
		reply      []byte // to the limits request, if sent
		wantPacket int
		wantErr    string
	}{
		{name: "no extensions", version: versionPacket(), wantPacket: defaultPacket},
		{name: "others only", version: versionPacket("posix-rename@openssh.com", "fsync@openssh.com"), wantPacket: defaultPacket},
		{name: "OpenSSH", version: versionPacket("posix-rename@openssh.com", limitsExtension), reply: limitsReply(256<<10, 255<<10, 255<<10, 19995), wantPacket: 255 << 10},
		{name: "larger than OpenSSH", version: versionPacket(limitsExtension), reply: limitsReply(8<<20, 4<<20, 4<<20, 0), wantPacket: maxPacket},
		{name: "small reads", version: versionPacket(limitsExtension), reply: limitsReply(256<<10, 16<<10, 255<<10, 0), wantPacket: 16 << 10},
		{name: "small packets", version: versionPacket(limitsExtension), reply: limitsReply(65<<10, 255<<10, 255<<10, 0), wantPacket: 64 << 10},
		{name: "no read limit stated", version: versionPacket(limitsExtension), reply: limitsReply(256<<10, 0, 255<<10, 0), wantPacket: defaultPacket},
		{name: "refused", version: versionPacket(limitsExtension), reply: append(binary.BigEndian.AppendUint32([]byte{fxpStatus}, 1), 0, 0, 0, 8), wantPacket: defaultPacket},
		{name: "short reply", version: versionPacket(limitsExtension), reply: limitsReply(256 << 10), wantErr: "malformed reply"},
		{name: "not a version", version: []byte{fxpStatus, 0, 0, 0, 1}, wantPacket: defaultPacket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// What the server sends, and what it receives.
			var out bytes.Buffer
			writePacket(&out, tt.version)
			if tt.reply != nil {
				writePacket(&out, tt.reply)
			}
			out.WriteString("after")
			var in bytes.Buffer
			packet, pr, pw, err := sftpHandshake(&out, nopCloser{&in})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || packet != tt.wantPacket {
				t.Fatalf("sftpHandshake: %d, %v; want %d", packet, err, tt.wantPacket)
			}
			want := framed([]byte{fxpInit, 0, 0, 0, 3})
			if tt.reply != nil {
				want = append(want, framed(limitsRequest)...)
			}
			if !bytes.Equal(in.Bytes(), want) {
				t.Errorf("the server received %x, want %x", in.Bytes(), want)
			}

			got, _ := io.ReadAll(pr)
			if want := append(framed(tt.version), "after"...); !bytes.Equal(got, want) {
				t.Errorf("pkg/sftp reads %x, want the VERSION again and the rest: %x", got, want)
			}
			in.Reset()
			// pkg/sftp's INIT, a byte at a time, then a request.
			next := framed([]byte{fxpExtended, 0, 0, 0, 9, 'n', 'e', 'x', 't'})
			for _, b := range append(framed([]byte{fxpInit, 0, 0, 0, 3}), next...) {
				if n, err := pw.Write([]byte{b}); n != 1 || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
			}
			if !bytes.Equal(in.Bytes(), next) {
				t.Errorf("after pkg/sftp's INIT the server received %q, want only %q", in.Bytes(), next)
			}
		})
	}
}

func TestSFTPHandshakeEOF(t *testing.T) {
	t.Parallel()
	_, _, _, err := sftpHandshake(strings.NewReader(""), nopCloser{io.Discard})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err %v, want an unexpected EOF", err)
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// TestRealSFTPLimits checks against OpenSSH's sftp-server that
// sftpHandshake finds the large packets OpenSSH offers, and that
// pkg/sftp works on the streams it leaves.
func TestRealSFTPLimits(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	cn, sess, err := c.openSession(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.release(cn)
	defer sess.Close()
	w, _ := sess.StdinPipe()
	r, _ := sess.StdoutPipe()
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	packet, pr, pw, err := sftpHandshake(r, w)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sftp.NewClientPipe(pr, pw, sftp.MaxPacketUnchecked(packet))
	if err != nil {
		t.Fatalf("pkg/sftp after the handshake: %v", err)
	}
	defer sc.Close()
	if _, err := sc.Getwd(); err != nil {
		t.Fatalf("pkg/sftp after the handshake: %v", err)
	}
	want := defaultPacket
	if _, ok := sc.HasExtension(limitsExtension); ok {
		want = 255 << 10 // OpenSSH 8.7 and later
	}
	if packet != want {
		t.Errorf("packet %d, want %d", packet, want)
	}
}

// TestFilterMakesCreatedFilesPrivate: whatever way pkg/sftp's writes cut
// the stream, an OPEN that creates a file asks for mode 0600, a MKDIR
// for 0700, and every other request reaches the server unchanged.
func TestFilterMakesCreatedFilesPrivate(t *testing.T) {
	str := func(s string) []byte { return binary.BigEndian.AppendUint32(nil, uint32(len(s))) }
	packet := func(typ byte, id uint32, parts ...[]byte) []byte {
		b := binary.BigEndian.AppendUint32([]byte{typ}, id)
		for _, p := range parts {
			b = append(b, p...)
		}
		return framed(b)
	}
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	path := func(p string) []byte { return append(str(p), p...) }
	const read, write, trunc = 0x01, 0x02, 0x10
	in := [][]byte{
		framed([]byte{fxpInit, 0, 0, 0, 3}),
		packet(fxpOpen, 1, path("/srv/.key.gotask-x.tmp"), u32(write|fxfCreat|0x20), u32(0)),
		packet(6, 2, str("handle"), make([]byte, 8), str("data"), []byte("data")), // WRITE
		packet(fxpOpen, 3, path("/srv/key"), u32(read), u32(0)),
		packet(fxpMkdir, 4, path("/srv/dir"), u32(0)),
		packet(fxpOpen, 5, path("/srv/given"), u32(write|fxfCreat|trunc), u32(attrPerms), u32(0o640)),
	}
	want := [][]byte{
		packet(fxpOpen, 1, path("/srv/.key.gotask-x.tmp"), u32(write|fxfCreat|0x20), u32(attrPerms), u32(0o600)),
		in[2],
		in[3],
		packet(fxpMkdir, 4, path("/srv/dir"), u32(attrPerms), u32(0o700)),
		in[5],
	}
	stream := bytes.Join(in, nil)
	wantStream := bytes.Join(want, nil)
	for _, size := range []int{1, 2, 3, 5, 7, 13, len(stream)} {
		var got bytes.Buffer
		f := &filter{WriteCloser: nopCloser{&got}}
		for rest := stream; len(rest) > 0; {
			k := min(size, len(rest))
			if n, err := f.Write(rest[:k]); n != k || err != nil {
				t.Fatalf("Write: %d, %v", n, err)
			}
			rest = rest[k:]
		}
		if !bytes.Equal(got.Bytes(), wantStream) {
			t.Errorf("writes of %d bytes: the server received\n%x\nwant\n%x", size, got.Bytes(), wantStream)
		}
	}
}
