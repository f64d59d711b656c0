package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gotask/gotask/runner/remote"
)

// The persist mux is gotask itself, started again with persistServeArg
// as its only argument and these variables set: a hidden mode, not a
// flag, that no user types.
const (
	persistServeArg = "--persist-serve"
	persistDirEnv   = "GOTASK_PERSIST_DIR"
	persistIdleEnv  = "GOTASK_PERSIST_IDLE"
	persistReadyEnv = "GOTASK_PERSIST_READY" // set when fd 3 is where to say "ok" once listening
	persistLog      = "mux.log"
)

// isPersistServe reports whether this process was started as the mux.
func isPersistServe(args []string) bool {
	return len(args) == 1 && args[0] == persistServeArg && os.Getenv(persistDirEnv) != ""
}

// servePersist runs the mux until it is stopped or idle. It is not
// dumpable (Main saw to that), holds no secret but its connections, and
// its stderr is the log file in its directory.
func servePersist(ctx context.Context, streams *Streams) int {
	var ready *os.File
	if os.Getenv(persistReadyEnv) != "" {
		ready = os.NewFile(3, "ready")
	}
	fail := func(err error) int {
		fmt.Fprintf(streams.ErrOut, "gotask mux: %v\n", err)
		if ready != nil {
			fmt.Fprintf(ready, "%v\n", err)
		}
		return ExitFailure
	}
	idle, err := time.ParseDuration(os.Getenv(persistIdleEnv))
	if err != nil {
		return fail(fmt.Errorf("%s: %w", persistIdleEnv, err))
	}
	m, err := remote.ListenMux(os.Getenv(persistDirEnv))
	if err != nil {
		return fail(err)
	}
	if ready != nil {
		fmt.Fprintln(ready, "ok")
		ready.Close()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Serve(ctx, idle, streams.ErrOut); err != nil {
		return fail(err)
	}
	return ExitOK
}

// persistConfig is how runs reach the user's mux: for every host with
// --persist DURATION, else for the hosts whose ssh_config sets
// ControlPersist. env is the environment for the mux (the run's, without
// its secrets), less the ssh-agent: the mux signs only with what a run
// offers it.
func persistConfig(idle time.Duration, env []string) *remote.Persist {
	dir := remote.PersistDir()
	var muxEnv []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SSH_AUTH_SOCK=") {
			muxEnv = append(muxEnv, kv)
		}
	}
	return &remote.Persist{Dir: dir, Idle: idle, Start: func(ctx context.Context, idle time.Duration) error {
		return startPersist(ctx, dir, idle, muxEnv)
	}}
}

// startPersist starts the mux in a session of its own, its output going
// to mux.log in dir, and waits until it listens.
func startPersist(ctx context.Context, dir string, idle time.Duration, env []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(dir, persistLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := &exec.Cmd{
		Path: exe,
		// As "gotask", so that a test binary doubling as gotask runs it.
		Args: []string{"gotask", persistServeArg},
		Dir:  "/",
		Env: append(env, persistDirEnv+"="+dir, persistIdleEnv+"="+idle.String(),
			persistReadyEnv+"=1"),
		Stdout:      logFile,
		Stderr:      logFile,
		ExtraFiles:  []*os.File{w},
		SysProcAttr: newSessionAttr(),
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	// Reaped if it ends while this run lasts; else it outlives the run.
	go cmd.Wait()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if s != "ok" {
			if s == "" {
				s = "it exited"
			}
			return fmt.Errorf("%s (see %s)", s, filepath.Join(dir, persistLog))
		}
		return nil
	case <-ctx.Done():
		cmd.Process.Kill()
		return context.Cause(ctx)
	}
}

// stopPersist is --persist-stop.
func stopPersist(ctx context.Context, streams *Streams) error {
	ran, err := remote.StopPersist(ctx, remote.PersistDir())
	if err != nil {
		return err
	}
	if !ran {
		fmt.Fprintln(streams.ErrOut, "gotask: no connection mux was running")
		return nil
	}
	fmt.Fprintln(streams.ErrOut, "gotask: stopped the connection mux and closed its connections")
	return nil
}
