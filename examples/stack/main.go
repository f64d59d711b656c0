// Command stack is the example service stack of examples/tasks.toml: an
// HTTP API and a worker that takes jobs from it, to try `gotask up`.
//
//	stack api -addr 127.0.0.1:8787
//	stack worker -api http://127.0.0.1:8787
//
// The API hands out numbered jobs at /job and answers /health; the worker
// asks for a job every -every, "does" it and prints a line. Both stop
// cleanly on SIGTERM or SIGINT, as `gotask up` asks them to.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: stack api|worker [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var err error
	switch os.Args[1] {
	case "api":
		err = api(ctx, os.Args[2:])
	case "worker":
		err = worker(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q: use api or worker", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stack:", err)
		os.Exit(1)
	}
}

// api serves /health and /job until ctx ends.
func api(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8787", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var jobs atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/job", func(w http.ResponseWriter, r *http.Request) {
		n := jobs.Add(1)
		fmt.Printf("handing out job %d to %s\n", n, r.Header.Get("X-Worker"))
		fmt.Fprintf(w, "%d\n", n)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Printf("api listening on http://%s (pid %d)\n", *addr, os.Getpid())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Println("api: stopping, finishing requests in flight")
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// worker takes a job from the API every -every until ctx ends.
func worker(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	base := fs.String("api", "http://127.0.0.1:8787", "the API's URL")
	every := fs.Duration("every", 2*time.Second, "how often to take a job")
	if err := fs.Parse(args); err != nil {
		return err
	}
	name := "worker-" + os.Getenv("GOTASK_REPLICA")
	client := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(*every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Printf("%s: stopping\n", name)
			return nil
		case <-t.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, *base+"/job", nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-Worker", name)
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			fmt.Printf("%s: no job: %v\n", name, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s: did job %s", name, body)
	}
}
