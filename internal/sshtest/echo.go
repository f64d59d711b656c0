package sshtest

import (
	"bufio"
	"io"
	"net"
	"testing"
)

// EchoServer listens on a loopback port until the test ends and answers
// each line a client sends with "echo: " and the line: the far end of a
// tunnel in tests. It returns the listener's address, 127.0.0.1:PORT.
func EchoServer(t testing.TB) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := io.WriteString(c, "echo: "+line); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr)
}
