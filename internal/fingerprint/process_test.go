package fingerprint

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// TestMain lets the test binary act as a second gotask process for
// TestConcurrentProcesses.
func TestMain(m *testing.M) {
	if dir := os.Getenv("FINGERPRINT_TEST_HELPER_DIR"); dir != "" {
		if err := helper(dir, os.Getenv("FINGERPRINT_TEST_HELPER_STATE")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if benchDir.dir != "" {
		os.RemoveAll(benchDir.dir)
	}
	os.Exit(code)
}

// helper checks and records the test project's "build" key many times.
func helper(dir, state string) error {
	ctx := context.Background()
	s := &Store{Dir: state}
	for range 50 {
		st, err := s.Check(ctx, "build", processSpec(dir))
		if err != nil {
			return err
		}
		if err := s.Record(ctx, st); err != nil {
			return err
		}
		if _, err := s.load(keyID("build")); err != nil {
			return err
		}
	}
	return nil
}

func processSpec(dir string) *Spec {
	return &Spec{Dir: dir, Sources: []string{"**/*.go"}, Definition: []byte("v1")}
}

// TestConcurrentProcesses runs two processes that check and record one
// key at the same time as this one; the state must stay readable.
func TestConcurrentProcesses(t *testing.T) {
	dir, _ := project(t)
	state := t.TempDir()
	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "FINGERPRINT_TEST_HELPER_DIR="+dir, "FINGERPRINT_TEST_HELPER_STATE="+state)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	herr := helper(dir, state)
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	}
	if herr != nil {
		t.Error(herr)
	}
	s := &Store{Dir: state}
	if st := check(t, s, "build", processSpec(dir)); !st.UpToDate {
		t.Errorf("after three processes: %s", st)
	}
}
