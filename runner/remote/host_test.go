package remote

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseHost(t *testing.T) {
	tests := []struct {
		in      string
		want    Addr
		wantErr string
	}{
		{in: "web1", want: Addr{Host: "web1"}},
		{in: "deploy@web1", want: Addr{User: "deploy", Host: "web1"}},
		{in: "web1:2222", want: Addr{Host: "web1", Port: 2222}},
		{in: "deploy@web1:22", want: Addr{User: "deploy", Host: "web1", Port: 22}},
		{in: "10.0.0.1:22", want: Addr{Host: "10.0.0.1", Port: 22}},
		{in: "[::1]:2222", want: Addr{Host: "::1", Port: 2222}},
		{in: "root@[::1]:2222", want: Addr{User: "root", Host: "::1", Port: 2222}},
		{in: "[::1]", want: Addr{Host: "::1"}},
		{in: "::1", want: Addr{Host: "::1"}},
		{in: "fe80::1%eth0", want: Addr{Host: "fe80::1%eth0"}},
		{in: "[fe80::1%eth0]:22", want: Addr{Host: "fe80::1%eth0", Port: 22}},
		{in: "me@corp.example@bastion", want: Addr{User: "me@corp.example", Host: "bastion"}},
		{in: "ssh://deploy@web1:2222", want: Addr{User: "deploy", Host: "web1", Port: 2222}},
		{in: "ssh://web1/", want: Addr{Host: "web1"}},
		{in: "", wantErr: "empty host"},
		{in: "@web1", wantErr: "empty user"},
		{in: "deploy@", wantErr: "empty host"},
		{in: "web1:", wantErr: "empty port"},
		{in: "web1:ssh", wantErr: "not a number"},
		{in: "web1:0", wantErr: "out of range"},
		{in: "web1:65536", wantErr: "out of range"},
		{in: "[::1", wantErr: "missing ']'"},
		{in: "[web1]:22", wantErr: "only for IPv6"},
		{in: "[::1]x", wantErr: "after ']'"},
		{in: "::1:22:zz", wantErr: "not an IPv6"},
		{in: "web 1", wantErr: "invalid character"},
		{in: "web1,web2", wantErr: "invalid character"},
		{in: "-oProxyCommand=x", wantErr: "may not start with '-'"},
		{in: "-l@host", wantErr: "user may not start"},
		{in: "a/b", wantErr: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseHost(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseHost(%q) = %+v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHost(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseHost(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			// String gives something that parses back to the same.
			again, err := ParseHost(got.String())
			if err != nil || again != got {
				t.Fatalf("ParseHost(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestAddrString(t *testing.T) {
	tests := []struct {
		a    Addr
		want string
	}{
		{Addr{Host: "web1"}, "web1"},
		{Addr{User: "u", Host: "web1", Port: 2222}, "u@web1:2222"},
		{Addr{Host: "::1", Port: 22}, "[::1]:22"},
		{Addr{Host: "::1"}, "[::1]"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestParseJump(t *testing.T) {
	tests := []struct {
		in      string
		want    []Addr
		wantErr string
	}{
		{in: "none", want: nil},
		{in: "bastion", want: []Addr{{Host: "bastion"}}},
		{in: "u@b1:2222,b2", want: []Addr{{User: "u", Host: "b1", Port: 2222}, {Host: "b2"}}},
		{in: "[::1]:22, ssh://me@b3", want: []Addr{{Host: "::1", Port: 22}, {User: "me", Host: "b3"}}},
		{in: "", wantErr: "empty ProxyJump"},
		{in: "b1,,b2", wantErr: "hop 2"},
		{in: "b1,b2:x", wantErr: "hop 2"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseJump(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseJump(%q) = %+v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseJump(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

// FuzzParseHost checks that ParseHost never panics, that what it accepts
// formats back (String) to a string it parses to the same Addr, and that
// an accepted host can never smuggle an option, a space or a second host.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"web1", "u@h:22", "[::1]:2222", "::1", "ssh://u@h:1", "a@b@c", "[fe80::1%eth0]:22", "h:", "[", "@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseHost(s)
		if err != nil {
			return
		}
		if a.Host == "" || strings.HasPrefix(a.Host, "-") || strings.HasPrefix(a.User, "-") {
			t.Fatalf("ParseHost(%q) accepted %+v", s, a)
		}
		if strings.ContainsAny(a.Host+a.User, " \t\n,/") {
			t.Fatalf("ParseHost(%q) accepted %+v with a separator", s, a)
		}
		if a.Port < 0 || a.Port > 65535 {
			t.Fatalf("ParseHost(%q) gave port %d", s, a.Port)
		}
		again, err := ParseHost(a.String())
		if err != nil || again != a {
			t.Fatalf("ParseHost(%q) = %+v; its String %q parses to %+v, %v", s, a, a.String(), again, err)
		}
	})
}

// FuzzParseJump checks that ParseJump never panics and that every hop it
// returns is a valid host on its own.
func FuzzParseJump(f *testing.F) {
	for _, s := range []string{"none", "b1", "u@b1:22,b2", "[::1]:22,ssh://x@y", ",", "b1,,b2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hops, err := ParseJump(s)
		if err != nil {
			return
		}
		if s != "none" && len(hops) == 0 {
			t.Fatalf("ParseJump(%q) accepted no hops", s)
		}
		for _, h := range hops {
			again, err := ParseHost(h.String())
			if err != nil || again != h {
				t.Fatalf("ParseJump(%q) hop %+v does not round-trip: %+v, %v", s, h, again, err)
			}
		}
	})
}
