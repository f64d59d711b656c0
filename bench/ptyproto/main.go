// Command ptyproto is the bare prototype under the pty benchmarks: it runs
// `sh -c true` N times, each on a pseudo-terminal of its own opened with
// creack/pty, started with os/exec and drained until the terminal closes,
// with none of gotask's features. The benchmark times it beside the shell
// loop to show, on the machine at hand, how much of local/pty-100-commands
// is the floor of a Go program doing that.
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/creack/pty"
)

func main() {
	n, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "usage: ptyproto N")
		os.Exit(2)
	}
	for range n {
		if err := run(); err != nil {
			fmt.Fprintln(os.Stderr, "ptyproto:", err)
			os.Exit(1)
		}
	}
}

func run() error {
	master, slave, err := pty.Open()
	if err != nil {
		return err
	}
	defer master.Close()
	c := exec.Command("sh", "-c", "true")
	c.Stdin, c.Stdout, c.Stderr = slave, slave, slave
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	err = c.Start()
	slave.Close()
	if err != nil {
		return err
	}
	io.Copy(io.Discard, master) // ends with EIO once the command is gone
	return c.Wait()
}
