package remote_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/remote"
)

func ExampleParseHost() {
	for _, s := range []string{"web1", "deploy@web1:2222", "root@[::1]:2200"} {
		a, err := remote.ParseHost(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("user=%q host=%q port=%d\n", a.User, a.Host, a.Port)
	}
	// Output:
	// user="" host="web1" port=0
	// user="deploy" host="web1" port=2222
	// user="root" host="::1" port=2200
}

func ExampleParseJump() {
	hops, err := remote.ParseJump("jump@bastion:2222,inner")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hops {
		fmt.Println(h)
	}
	// Output:
	// jump@bastion:2222
	// inner
}

// A Pool shares one connection per host between every step of a run.
func ExamplePool() {
	ctx := context.Background()
	pool := remote.NewPool(&remote.Config{
		// Ask for the passphrase of an encrypted key, and trust hosts
		// seen for the first time (gotask --accept-new-host-keys).
		Passphrase: func(prompt string) (string, error) { return "", fmt.Errorf("no terminal to ask %q", prompt) },
		AcceptNew:  true,
	})
	defer pool.Close()

	c, err := pool.Get(ctx, "deploy@web1:2222")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	if _, err := c.Put(ctx, "bin/app", "/opt/app/app.new", &runner.CopyOptions{Mode: 0o755}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	res, err := c.Run(ctx, &runner.Cmd{
		Command: "mv app.new app && ./app --version",
		Dir:     "/opt/app",
		Env:     []string{"APP_ENV=production"},
		Stdout:  os.Stdout,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println("took", res.Duration)
}
