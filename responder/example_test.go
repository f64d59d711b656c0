package responder_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/gotask/gotask/responder"
)

func ExampleResponder() {
	r := &responder.Responder{
		Pattern:  regexp.MustCompile(`Continue\? \[y/N\] `),
		Response: "y\n",
	}
	// A runner (runner.Cmd.Watchers) calls Watch with each chunk of output
	// as it arrives and passes the command's stdin. Here the prompt comes
	// split across two chunks, and is asked again later.
	var stdin strings.Builder
	for _, chunk := range []string{"Deleting 3 files.\nContin", "ue? [y/N] ", "Deleted.\nContinue? [y/N] "} {
		if err := r.Watch(responder.Stdout, []byte(chunk), &stdin); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Printf("%q\n", stdin.String())
	// Output: "y\ny\n"
}

func ExampleSudo_Command() {
	s := &responder.Sudo{
		User: "deploy",
		// The environment first, then a password command.
		Password: responder.Once(responder.First(
			responder.FromEnv("GOTASK_SUDO_PASSWORD"),
			responder.FromCommand("pass show sudo/web1", nil, nil),
		)),
		Host: "web1",
		Task: "deploy",
	}
	c := s.Command(context.Background(), "cd /srv/app && make install")
	// A runner runs c.Line with c among the command's watchers, its
	// output through c.Hide and its input held until c.Started().
	// The markers are random: hide them to show the shape of the line.
	fmt.Println(regexp.MustCompile(`gotask sudo [0-9a-f]+`).ReplaceAllString(c.Line, "gotask sudo ID"))
	// Output:
	// printf %s '[gotask sudo ID nonce?]' >&2 && IFS= read -r n && export SUDO_PROMPT="[sudo] gotask password nonce=$n: " && exec sudo -S -u deploy -- sh -c 'printf %s '\''[gotask sudo ID started]'\'' >&2; printf %s '\''[gotask sudo ID started]'\''; cd /srv/app && make install'
}

func ExampleSecrets_Writer() {
	var secrets responder.Secrets
	secrets.Add("hunter2")
	w := secrets.Writer(os.Stdout)
	// The secret arrives split across two writes.
	fmt.Fprint(w, "login ok, password hun")
	fmt.Fprint(w, "ter2 accepted\n")
	w.Close()
	// Output: login ok, password **** accepted
}
