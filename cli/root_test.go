package cli

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/gotask/gotask/runner/remote"
	"github.com/gotask/gotask/task"
)

// TestNewCmdRoot: the root command's flags fill rootOptions as the help
// text says, apart from any side effect: runF stands in for rootRun.
// Everything after the first task name is left, untouched, for the
// tasks (splitCalls reads it), and a mistake in gotask's own flags is a
// usage error that suggests the nearest flag.
func TestNewCmdRoot(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(*rootOptions) bool
		wantErr string // a *UsageError containing it
	}{
		{name: "defaults", args: []string{}, check: func(o *rootOptions) bool {
			return o.File == "" && !o.List && o.Parallel == task.DefaultParallel && o.Output == "prefixed" && len(o.Args) == 0
		}},
		{name: "file and list", args: []string{"-f", "x.toml", "-l", "--json"}, check: func(o *rootOptions) bool {
			return o.File == "x.toml" && o.List && o.JSON
		}},
		{name: "run modes", args: []string{"-n", "-e", "-w", "-q", "-y", "--no-pty", "--force-all"}, check: func(o *rootOptions) bool {
			return o.Dry && o.Echo && o.Warn && o.Quiet && o.Yes && o.NoPty && o.ForceAll && !o.Force
		}},
		{name: "hosts", args: []string{"-H", "a,b", "-H", "@web", "-P", "3", "--only", "a*", "--exclude", "b", "--output", "grouped"}, check: func(o *rootOptions) bool {
			return slices.Equal(o.Hosts, []string{"a", "b", "@web"}) && o.Parallel == 3 &&
				slices.Equal(o.Only, []string{"a*"}) && slices.Equal(o.Exclude, []string{"b"}) && o.Output == "grouped"
		}},
		{name: "ssh", args: []string{"-F", "none", "-i", "k1", "-i", "k,2", "--accept-new-host-keys", "--prompt-for-login-password"}, check: func(o *rootOptions) bool {
			return o.SSHConfig == "none" && slices.Equal(o.Identities, []string{"k1", "k,2"}) && o.AcceptNewHostKeys && o.PromptForLoginPassword
		}},
		{name: "put", args: []string{"-H", "h", "--put", "app", "--to", "/opt/app/", "--mode", "0755", "--sudo"}, check: func(o *rootOptions) bool {
			return o.Put == "app" && o.To == "/opt/app/" && o.Mode == "0755" && o.AdHocSudo && o.Get == "" && len(o.Args) == 0 && o.AdHoc == nil
		}},
		{name: "get", args: []string{"-H", "h", "--get", "/var/log/app.log", "--to", "logs/"}, check: func(o *rootOptions) bool {
			return o.Get == "/var/log/app.log" && o.To == "logs/" && o.Put == ""
		}},
		{name: "scale knobs default", args: []string{"-H", "a"}, check: func(o *rootOptions) bool {
			return o.MaxHandshakes == 0 && o.MaxIdleHosts == remote.DefaultMaxIdleHosts
		}},
		{name: "scale knobs", args: []string{"--max-handshakes", "16", "--max-idle-hosts", "0", "-P", "200"}, check: func(o *rootOptions) bool {
			return o.MaxHandshakes == 16 && o.MaxIdleHosts == 0 && o.Parallel == 200
		}},
		{name: "scale knob not a number", args: []string{"--max-handshakes", "lots"}, wantErr: `invalid argument "lots" for "--max-handshakes"`},
		{name: "scale knob misspelt", args: []string{"--max-handshake", "3"}, wantErr: "did you mean --max-handshakes?"},
		{name: "forward agent", args: []string{"--forward-agent"}, check: func(o *rootOptions) bool {
			return o.ForwardAgent
		}},
		{name: "sudo", args: []string{"--sudo-password-cmd", "pass show sudo", "--prompt-for-sudo-password"}, check: func(o *rootOptions) bool {
			return o.SudoPasswordCmd == "pass show sudo" && o.PromptForSudoPassword
		}},
		{name: "flags after a task are the task's", args: []string{"-n", "build", "--os", "linux", "-n", "test"}, check: func(o *rootOptions) bool {
			return o.Dry && slices.Equal(o.Args, []string{"build", "--os", "linux", "-n", "test"})
		}},
		{name: "init and version", args: []string{"--init", "--version"}, check: func(o *rootOptions) bool { return o.Init && o.Version }},
		{name: "unknown flag suggests the nearest", args: []string{"--hots", "a"}, wantErr: "unknown flag: --hots; did you mean --hosts?"},
		{name: "bad number", args: []string{"-P", "many"}, wantErr: `invalid argument "many" for "-P, --parallel"`},
		{name: "missing value", args: []string{"-f"}, wantErr: "flag needs an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *rootOptions
			cmd := newCmdRoot(&Streams{Out: io.Discard, ErrOut: io.Discard}, &config{}, func(o *rootOptions) error {
				got = o
				return nil
			})
			cmd.SetArgs(tt.args)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var usage *UsageError
				if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want a usage error saying %q", err, tt.wantErr)
				}
				if got != nil {
					t.Error("runF ran after a flag error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("runF did not run")
			}
			if !tt.check(got) {
				t.Errorf("options %+v do not match %v", *got, tt.args)
			}
		})
	}
}

// TestRemoteConfig: the scale flags reach remote.Config with the meaning
// their help gives them, and a negative one is a usage error.
func TestRemoteConfig(t *testing.T) {
	tests := []struct {
		handshakes, idle         int
		wantHandshakes, wantIdle int
		wantErr                  string
	}{
		{0, remote.DefaultMaxIdleHosts, 0, remote.DefaultMaxIdleHosts, ""},
		{7, 3, 7, 3, ""},
		{1, 0, 1, -1, ""}, // 0 idle hosts: remote's "close at once" is negative
		{-1, 64, 0, 0, "--max-handshakes -1"},
		{0, -2, 0, 0, "--max-idle-hosts -2"},
	}
	for _, tt := range tests {
		cfg, err := remoteConfig(&rootOptions{MaxHandshakes: tt.handshakes, MaxIdleHosts: tt.idle, SSHConfig: "cfg", ForwardAgent: true})
		if tt.wantErr != "" {
			var usage *UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%d, %d: error %v, want a usage error saying %q", tt.handshakes, tt.idle, err, tt.wantErr)
			}
			continue
		}
		if err != nil || cfg.MaxHandshakes != tt.wantHandshakes || cfg.MaxIdleHosts != tt.wantIdle || cfg.SSHConfig != "cfg" || !cfg.ForwardAgent {
			t.Errorf("%d, %d: config %+v, %v; want MaxHandshakes %d, MaxIdleHosts %d and the other flags kept", tt.handshakes, tt.idle, cfg, err, tt.wantHandshakes, tt.wantIdle)
		}
	}
}
