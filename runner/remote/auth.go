package remote

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// auth gathers the authentication methods for one hop and remembers what
// it tried, so that a failure can say so.
type auth struct {
	ep      *endpoint
	cfg     *Config
	pause   func() func() // stops the connect timeout while a callback asks the user
	agent   net.Conn
	signers []ssh.Signer
	tried   []string // descriptions of the keys offered
	notes   []string // keys that could not be used, and why
}

// newAuth loads the agent's keys and the identity files. Only a missing
// or unreadable explicitly named key file is an error; other problems are
// noted and reported if authentication fails.
func newAuth(ep *endpoint, cfg *Config, pause func() func()) (*auth, error) {
	a := &auth{ep: ep, cfg: cfg, pause: pause}
	var agentSigners []ssh.Signer
	if sock := cfg.agentSocket(); sock != "" {
		c, err := net.Dial("unix", sock)
		if err != nil {
			a.notes = append(a.notes, fmt.Sprintf("ssh-agent at %s: %v", sock, err))
		} else {
			a.agent = c
			s, err := agent.NewClient(c).Signers()
			if err != nil {
				a.notes = append(a.notes, fmt.Sprintf("ssh-agent at %s: %v", sock, err))
			}
			agentSigners = s
		}
	}

	var fileSigners []ssh.Signer
	var filePubs [][]byte
	for _, path := range ep.identityFiles {
		signers, pub, err := a.loadKey(path, agentSigners)
		if err != nil {
			if ep.explicitKeys[path] {
				a.close()
				return nil, err
			}
			if !errors.Is(err, os.ErrNotExist) {
				a.notes = append(a.notes, err.Error())
			}
			continue
		}
		if pub != nil {
			filePubs = append(filePubs, pub.Marshal())
		}
		fileSigners = append(fileSigners, signers...)
	}

	seen := map[string]bool{}
	add := func(s ssh.Signer, what string) {
		k := string(s.PublicKey().Marshal())
		if seen[k] {
			return
		}
		seen[k] = true
		a.signers = append(a.signers, s)
		a.tried = append(a.tried, what)
	}
	for _, s := range agentSigners {
		if ep.identitiesOnly && !containsBytes(filePubs, plainKey(s.PublicKey()).Marshal()) {
			continue
		}
		add(s, "agent key "+ssh.FingerprintSHA256(s.PublicKey()))
	}
	for _, s := range fileSigners {
		add(s, "key file "+keyFileOf(s))
	}
	return a, nil
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

func plainKey(k ssh.PublicKey) ssh.PublicKey {
	if c, ok := k.(*ssh.Certificate); ok {
		return c.Key
	}
	return k
}

// namedSigner remembers which file a signer came from.
type namedSigner struct {
	ssh.Signer
	path string
}

func keyFileOf(s ssh.Signer) string {
	if n, ok := s.(namedSigner); ok {
		return n.path
	}
	if l, ok := s.(*lazySigner); ok {
		return l.path
	}
	return "?"
}

// loadKey reads one identity file and its certificate (path-cert.pub), if
// any. It returns the signers to offer (certificate first) and the plain
// public key. An encrypted key whose public half is known becomes a lazy
// signer that asks for the passphrase only when the server accepts the
// key; one that the agent already holds is left to the agent.
func (a *auth) loadKey(path string, agentSigners []ssh.Signer) ([]ssh.Signer, ssh.PublicKey, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading identity file: %w", err)
	}
	var signer ssh.Signer
	var pub ssh.PublicKey
	signer, err = ssh.ParsePrivateKey(pemBytes)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		signer = namedSigner{signer, path}
		pub = signer.PublicKey()
	case errors.As(err, &missing):
		pub = missing.PublicKey
		if pub == nil {
			pub = readPublicKey(path + ".pub")
		}
		if pub != nil {
			for _, s := range agentSigners {
				if bytes.Equal(plainKey(s.PublicKey()).Marshal(), pub.Marshal()) {
					// The agent holds it: no passphrase needed.
					return nil, pub, nil
				}
			}
		}
		if a.cfg.Passphrase == nil {
			return nil, pub, fmt.Errorf("identity file %s is encrypted and no passphrase prompt is available; "+
				"load it into ssh-agent (ssh-add %s) or run where gotask can ask for the passphrase", path, path)
		}
		l := &lazySigner{path: path, pem: pemBytes, pub: pub, ask: a.cfg.Passphrase, pause: a.pause}
		if pub == nil {
			// Without the public half we must decrypt now to know it.
			if _, err := l.load(); err != nil {
				return nil, nil, err
			}
			l.pub = l.signer.PublicKey()
			pub = l.pub
		}
		signer = l
	default:
		return nil, nil, fmt.Errorf("identity file %s: %w", path, err)
	}

	signers := []ssh.Signer{signer}
	if certPub := readPublicKey(path + "-cert.pub"); certPub != nil {
		if cert, ok := certPub.(*ssh.Certificate); ok {
			if cs, err := ssh.NewCertSigner(cert, signer); err == nil {
				signers = append([]ssh.Signer{namedSigner{cs, path + "-cert.pub"}}, signers...)
			} else {
				a.notes = append(a.notes, fmt.Sprintf("certificate %s-cert.pub: %v", path, err))
			}
		}
	}
	return signers, pub, nil
}

func readPublicKey(path string) ssh.PublicKey {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return k
}

// methods returns the auth methods in OpenSSH's order. All keys go into
// one publickey method so that each is offered once and the server's
// MaxAuthTries is not spent on retries.
func (a *auth) methods() []ssh.AuthMethod {
	var m []ssh.AuthMethod
	if len(a.signers) > 0 {
		m = append(m, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) { return a.signers, nil }))
	}
	if a.cfg.Password != nil {
		who := a.ep.user + "@" + a.ep.hostName
		m = append(m,
			ssh.RetryableAuthMethod(ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i, q := range questions {
					prompt := q
					if instruction != "" && i == 0 {
						prompt = instruction + "\n" + q
					}
					if strings.TrimSpace(prompt) == "" {
						prompt = "(" + who + ") Password: "
					}
					resume := a.pause()
					ans, err := a.cfg.Password(prompt)
					resume()
					if err != nil {
						return nil, err
					}
					answers[i] = ans
				}
				return answers, nil
			}), 3),
			ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
				defer a.pause()()
				return a.cfg.Password(who + "'s password: ")
			}), 3),
		)
	}
	return m
}

// explain describes what was tried, for an authentication failure.
func (a *auth) explain() string {
	var b strings.Builder
	if len(a.tried) == 0 {
		b.WriteString("no keys were offered (no agent keys, no usable identity files)")
	} else {
		b.WriteString("offered " + strings.Join(a.tried, ", "))
	}
	if a.cfg.Password == nil {
		b.WriteString("; password authentication not available (no prompt)")
	}
	for _, n := range a.notes {
		b.WriteString("; " + n)
	}
	return b.String()
}

func (a *auth) close() {
	if a.agent != nil {
		a.agent.Close()
	}
}

// lazySigner decrypts an encrypted private key the first time it must
// sign, asking for the passphrase (three attempts, like OpenSSH).
type lazySigner struct {
	path string
	pem  []byte
	pub  ssh.PublicKey
	ask  func(prompt string) (string, error)
	// pause stops the connect timeout while the user types and the key
	// is decrypted (bcrypt_pbkdf is slow on purpose).
	pause func() func()

	mu     sync.Mutex
	signer ssh.Signer
	err    error
}

func (l *lazySigner) PublicKey() ssh.PublicKey { return l.pub }

func (l *lazySigner) load() (ssh.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.signer != nil || l.err != nil {
		return l.signer, l.err
	}
	defer l.pause()()
	for attempt := 0; attempt < 3; attempt++ {
		pass, err := l.ask(fmt.Sprintf("Enter passphrase for key '%s': ", l.path))
		if err != nil {
			l.err = fmt.Errorf("reading the passphrase for %s: %w", l.path, err)
			return nil, l.err
		}
		s, err := ssh.ParsePrivateKeyWithPassphrase(l.pem, []byte(pass))
		if err == nil {
			l.signer = s
			return s, nil
		}
		if !errors.Is(err, x509.IncorrectPasswordError) {
			l.err = fmt.Errorf("decrypting identity file %s: %w", l.path, err)
			return nil, l.err
		}
	}
	l.err = fmt.Errorf("wrong passphrase for identity file %s (3 attempts)", l.path)
	return nil, l.err
}

func (l *lazySigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	s, err := l.load()
	if err != nil {
		return nil, err
	}
	return s.Sign(r, data)
}

func (l *lazySigner) SignWithAlgorithm(r io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s, err := l.load()
	if err != nil {
		return nil, err
	}
	if as, ok := s.(ssh.AlgorithmSigner); ok {
		return as.SignWithAlgorithm(r, data, algorithm)
	}
	return s.Sign(r, data)
}
