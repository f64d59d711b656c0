package remote

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Addr is a parsed host string: an optional user, a host name, IP address
// or ssh_config alias, and an optional port.
type Addr struct {
	// User is the login name; empty means "not given".
	User string
	// Host is a host name, an IP address (IPv6 without brackets) or an
	// alias to look up in ssh_config.
	Host string
	// Port is the TCP port; zero means "not given".
	Port int
}

// String formats a as a host string that ParseHost reads back:
// "user@host:port", with brackets around an IPv6 address when a port
// follows.
func (a Addr) String() string {
	var b strings.Builder
	if a.User != "" {
		b.WriteString(a.User)
		b.WriteByte('@')
	}
	switch {
	case a.Port != 0:
		b.WriteString(net.JoinHostPort(a.Host, strconv.Itoa(a.Port)))
	case strings.Contains(a.Host, ":"):
		b.WriteString("[" + a.Host + "]")
	default:
		b.WriteString(a.Host)
	}
	return b.String()
}

// ParseHost parses a host string as gotask accepts it on the command line
// and in tasks.toml:
//
//	host               an address, a name, or an alias from ssh_config
//	user@host          the user is everything before the last '@'
//	host:port          a port after the last ':' of a name or IPv4 address
//	[::1]:2222         IPv6 with a port goes in brackets
//	::1, [::1]         IPv6 without a port
//	ssh://user@host:port  the URI form OpenSSH also takes
//
// It only checks the syntax; names are resolved when connecting.
func ParseHost(s string) (Addr, error) {
	a, err := parseHost(s)
	if err != nil {
		return Addr{}, fmt.Errorf("host %q: %w", s, err)
	}
	return a, nil
}

func parseHost(s string) (Addr, error) {
	var a Addr
	rest := s
	if strings.HasPrefix(rest, "ssh://") {
		rest = strings.TrimSuffix(rest[len("ssh://"):], "/")
	}
	if rest == "" {
		return a, errors.New("empty host; write host, user@host or user@host:port")
	}
	for _, r := range rest {
		if r <= ' ' || r == 0x7f || r == ',' || r == '/' || r == '\\' || r == '\'' || r == '"' {
			return a, fmt.Errorf("invalid character %q; a host string has no spaces, commas, slashes or quotes", r)
		}
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		a.User, rest = rest[:i], rest[i+1:]
		if a.User == "" {
			return a, errors.New("empty user before '@'")
		}
		if strings.HasPrefix(a.User, "-") {
			return a, errors.New("user may not start with '-'")
		}
	}
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return a, errors.New("missing ']' after IPv6 address")
		}
		a.Host, rest = rest[1:end], rest[end+1:]
		if !strings.Contains(a.Host, ":") {
			return a, errors.New("brackets are only for IPv6 addresses")
		}
		if net.ParseIP(a.Host) == nil && !isScopedIPv6(a.Host) {
			return a, fmt.Errorf("%q is not an IPv6 address", a.Host)
		}
		if rest != "" {
			if rest[0] != ':' {
				return a, fmt.Errorf("unexpected %q after ']'", rest)
			}
			p, err := parsePort(rest[1:])
			if err != nil {
				return a, err
			}
			a.Port = p
		}
	case strings.Count(rest, ":") > 1:
		// A bare IPv6 address cannot carry a port.
		if net.ParseIP(rest) == nil && !isScopedIPv6(rest) {
			return a, fmt.Errorf("%q is not an IPv6 address; write [addr]:port for an address with a port", rest)
		}
		a.Host = rest
	default:
		a.Host = rest
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			a.Host = rest[:i]
			p, err := parsePort(rest[i+1:])
			if err != nil {
				return a, err
			}
			a.Port = p
		}
	}
	if a.Host == "" {
		return a, errors.New("empty host name")
	}
	if strings.HasPrefix(a.Host, "-") {
		return a, errors.New("host may not start with '-'")
	}
	if strings.ContainsAny(a.Host, "[]@") {
		return a, fmt.Errorf("invalid host name %q", a.Host)
	}
	return a, nil
}

// isScopedIPv6 accepts link-local addresses with a zone, as in fe80::1%eth0.
func isScopedIPv6(s string) bool {
	i := strings.IndexByte(s, '%')
	return i > 0 && i < len(s)-1 && net.ParseIP(s[:i]) != nil
}

func parsePort(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty port after ':'")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("port %q is not a number", s)
		}
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %s is out of range 1-65535", s)
	}
	return p, nil
}

// ParseJump parses a ProxyJump value: a comma-separated list of host
// strings (see ParseHost), connected to in order. "none" yields no hops.
func ParseJump(s string) ([]Addr, error) {
	if s == "none" {
		return nil, nil
	}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty ProxyJump list; write host1,host2 or none")
	}
	var hops []Addr
	for i, part := range strings.Split(s, ",") {
		a, err := parseHost(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("ProxyJump %q, hop %d: %w", s, i+1, err)
		}
		hops = append(hops, a)
	}
	return hops, nil
}
