package service_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/gotask/gotask/service"
)

// A service whose process runs once (restart = "no"): Start waits for it
// to be ready, Wait for it to end, and Status tells how it ended.
func Example() {
	sup, err := service.New(service.Config{
		Services: []service.Spec{{
			Name:    "hello",
			Restart: service.Never,
			Command: func(_ context.Context, replica int) (service.Command, error) {
				return service.Command{Line: fmt.Sprintf("echo hello from replica %d", replica)}, nil
			},
		}},
		Output: func(_ string, _ int, _ string) (io.Writer, io.Writer, func()) {
			return os.Stdout, os.Stderr, nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sup.Start(context.Background()); err != nil {
		fmt.Println(err)
	}
	if err := sup.Wait(); err != nil {
		fmt.Println(err)
	}
	for _, st := range sup.Status() {
		fmt.Printf("%s.%d: %s (%s)\n", st.Service, st.Replica, st.State, st.LastExit)
	}
	// Output:
	// hello from replica 1
	// hello.1: stopped (exit 0)
}
