package responder

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestFromEnv(t *testing.T) {
	const name = "GOTASK_TEST_PASSWORD"
	tests := []struct {
		name    string
		value   *string // nil: unset
		want    string
		wantErr string
	}{
		{"set", new("s3cr3t pw"), "s3cr3t pw", ""},
		{"unset", nil, "", "environment variable GOTASK_TEST_PASSWORD is not set"},
		{"empty", new(""), "", "environment variable GOTASK_TEST_PASSWORD is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(name, "")
			if tc.value == nil {
				os.Unsetenv(name)
			} else {
				t.Setenv(name, *tc.value)
			}
			got, err := FromEnv(name)(t.Context())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrNoPassword) {
					t.Fatalf("error %v, want one wrapping ErrNoPassword and containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestFromCommand(t *testing.T) {
	tests := []struct {
		name       string
		cmdline    string
		want       string
		wantErr    []string // substrings of the error
		wantStderr string
	}{
		{"one line", `printf 'pw\n'`, "pw", nil, ""},
		{"no newline", `printf 'pw'`, "pw", nil, ""},
		{"only one newline removed", `printf 'a b\n\n'`, "a b\n", nil, ""},
		{"stderr passed through", `echo working >&2; echo pw`, "pw", nil, "working\n"},
		{"fails", `echo 'gpg: decryption failed' >&2; exit 3`, "",
			[]string{`password command "echo 'gpg: decryption failed' >&2; exit 3"`, "exit status 3"},
			"gpg: decryption failed\n"},
		{"not found", `no-such-command-gotask`, "", []string{`"no-such-command-gotask"`, "exit status 127"}, ""},
		{"prints nothing", `true`, "", []string{`password command "true" printed nothing`}, ""},
		{"prints too much", `head -c 70000 /dev/zero | tr '\0' x`, "", []string{"printed more than 65536 bytes"}, ""},
		{"reads no input", `cat`, "", []string{`"cat" printed nothing`}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got, err := FromCommand(tc.cmdline, nil, &stderr)(t.Context())
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
			} else if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
	t.Run("fails: error output shown once", func(t *testing.T) {
		var stderr bytes.Buffer
		_, err := FromCommand(`echo 'gpg: decryption failed' >&2; exit 3`, nil, &stderr)(t.Context())
		if err == nil || !strings.HasSuffix(err.Error(), "exit status 3") || stderr.String() != "gpg: decryption failed\n" {
			t.Fatalf("error %v, stderr %q: want the reason on stderr only", err, stderr.String())
		}
	})
	t.Run("fails: error output in the error when not shown", func(t *testing.T) {
		_, err := FromCommand(`echo 'gpg: decryption failed' >&2; exit 3`, nil, nil)(t.Context())
		if err == nil || !strings.Contains(err.Error(), "exit status 3: gpg: decryption failed") {
			t.Fatalf("error %v, want it to end with the reason", err)
		}
	})
	t.Run("nil stderr discards", func(t *testing.T) {
		if got, err := FromCommand(`echo noise >&2; echo pw`, nil, nil)(t.Context()); err != nil || got != "pw" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("runs with the environment given", func(t *testing.T) {
		t.Setenv("GOTASK_TEST_HIDDEN", "hidden-value")
		env := []string{"PATH=" + os.Getenv("PATH"), "SHOWN=shown-value"}
		got, err := FromCommand(`echo "${SHOWN}:${GOTASK_TEST_HIDDEN-unset}"`, env, nil)(t.Context())
		if err != nil || got != "shown-value:unset" {
			t.Fatalf("got %q, %v; want the command to see SHOWN and not GOTASK_TEST_HIDDEN", got, err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := FromCommand(`echo pw`, nil, nil)(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
}

// source returns a PasswordFunc that returns pw and err, counting calls.
func source(pw string, err error, calls *atomic.Int32) PasswordFunc {
	return func(context.Context) (string, error) {
		if calls != nil {
			calls.Add(1)
		}
		return pw, err
	}
}

func TestFirst(t *testing.T) {
	none := func(why string) error { return errors.Join(ErrNoPassword, errors.New(why)) }
	errBroken := errors.New("keyring locked")
	tests := []struct {
		name      string
		sources   []PasswordFunc
		want      string
		wantErr   error
		wantCalls []int32
	}{
		{"first has one", []PasswordFunc{source("a", nil, nil), source("b", nil, nil)}, "a", nil, []int32{1, 0}},
		{"skips sources with none", []PasswordFunc{source("", none("unset"), nil), source("b", nil, nil)}, "b", nil, []int32{1, 1}},
		{"stops at a failure", []PasswordFunc{source("", errBroken, nil), source("b", nil, nil)}, "", errBroken, []int32{1, 0}},
		{"none anywhere", []PasswordFunc{source("", none("unset"), nil), source("", none("no cmd"), nil)}, "", ErrNoPassword, []int32{1, 1}},
		{"no sources", nil, "", ErrNoPassword, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := make([]atomic.Int32, len(tc.sources))
			srcs := make([]PasswordFunc, len(tc.sources))
			for i, s := range tc.sources {
				srcs[i] = func(ctx context.Context) (string, error) {
					calls[i].Add(1)
					return s(ctx)
				}
			}
			got, err := First(srcs...)(t.Context())
			if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			for i := range calls {
				if n := calls[i].Load(); n != tc.wantCalls[i] {
					t.Errorf("source %d called %d times, want %d", i, n, tc.wantCalls[i])
				}
			}
		})
	}
	t.Run("error names every source", func(t *testing.T) {
		_, err := First(FromEnv("GOTASK_TEST_UNSET_A"), FromEnv("GOTASK_TEST_UNSET_B"))(t.Context())
		want := "no password: environment variable GOTASK_TEST_UNSET_A is not set; environment variable GOTASK_TEST_UNSET_B is not set"
		if err == nil || err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	})
}

func TestOnce(t *testing.T) {
	t.Run("asks once", func(t *testing.T) {
		var calls atomic.Int32
		get := Once(source("pw", nil, &calls))
		for range 3 {
			if pw, err := get(t.Context()); err != nil || pw != "pw" {
				t.Fatalf("got %q, %v", pw, err)
			}
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("source called %d times, want 1", n)
		}
	})
	t.Run("concurrent callers share one call", func(t *testing.T) {
		var calls atomic.Int32
		get := Once(source("pw", nil, &calls))
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if pw, err := get(t.Context()); err != nil || pw != "pw" {
					t.Errorf("got %q, %v", pw, err)
				}
			})
		}
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("source called %d times, want 1", n)
		}
	})
	t.Run("errors are not kept", func(t *testing.T) {
		var calls atomic.Int32
		fail := true
		get := Once(func(context.Context) (string, error) {
			calls.Add(1)
			if fail {
				return "", errors.New("cancelled at the prompt")
			}
			return "pw", nil
		})
		if _, err := get(t.Context()); err == nil {
			t.Fatal("first call succeeded, want its error")
		}
		fail = false
		for range 2 {
			if pw, err := get(t.Context()); err != nil || pw != "pw" {
				t.Fatalf("got %q, %v", pw, err)
			}
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("source called %d times, want 2", n)
		}
	})
	t.Run("a waiting caller can give up", func(t *testing.T) {
		started, release := make(chan struct{}), make(chan struct{})
		get := Once(func(context.Context) (string, error) {
			close(started)
			<-release
			return "pw", nil
		})
		done := make(chan error)
		go func() {
			_, err := get(t.Context())
			done <- err
		}()
		<-started
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := get(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("waiting caller got %v, want context.Canceled", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Errorf("first caller: %v", err)
		}
	})
}
