package output_test

import (
	"fmt"
	"os"

	"github.com/gotask/gotask/output"
)

// A host tries to pass for another: a carriage return back over its
// prefix, then a cursor-up to rewrite the line above, and a window
// title. After its prefix, what it printed is shown harmlessly.
func ExampleClean() {
	line := []byte("deploying\r[web2] deploy OK\x1b[1A\x1b]0;owned\x07\b!")
	fmt.Printf("[web1] %s\n", output.Clean(nil, line, false))
	// Output: [web1] [web2] deploy OK^H!
}

// Two hosts write at once through a Console: every line carries its
// host's prefix, and the summary follows.
func ExampleConsole() {
	c := output.New(os.Stdout, os.Stdout, output.Options{})
	out1, _, done1 := c.Host("deploy", "web1", 4, false)
	out2, _, done2 := c.Host("deploy", "web2", 4, false)
	fmt.Fprint(out1, "restarting\n")
	fmt.Fprint(out2, "restart")
	fmt.Fprint(out2, "ing\n")
	done1(output.End{Status: "ok"})
	done2(output.End{Status: "failed", ExitCode: 3})
	c.Summary("deploy", []output.Row{
		{Host: "web1", Status: "ok"},
		{Host: "web2", Status: "failed", Detail: "exit 3: systemctl restart app"},
	}, false)
	// Output:
	// [web1] restarting
	// [web2] restarting
	//
	// task deploy: 1 of 2 hosts ok
	//   web1            ok
	//   web2            failed (exit 3: systemctl restart app)
}
