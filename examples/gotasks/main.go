// Command gotasks holds the example tasks written in Go. gotask finds this
// package beside tasks.toml, builds it once into its cache and runs it, so
// these tasks list and run like the ones in tasks.toml:
//
//	go run ./cmd/gotask -f examples/tasks.toml -l
//	go run ./cmd/gotask -f examples/tasks.toml gomytime
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gotask/gotask/cli"
	"github.com/gotask/gotask/task"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Std(), cli.WithRegistry(registry())))
}

func registry() *task.Registry {
	reg := task.NewRegistry()
	reg.MustAdd(task.Task{
		Name: "gomytime",
		Help: "Print the local time (a task written in Go)",
		Func: func(ctx context.Context, j *task.Job) error {
			_, err := j.Run(ctx, "date '+Local time is %c'")
			return err
		},
	})
	reg.MustAdd(task.Task{
		Name: "biggest",
		// No Help: it comes from the doc comment of biggest.
		Args: []task.Arg{
			{Name: "dir", Default: ".", Help: "directory to look in"},
			{Name: "top", Type: task.Int, Default: 3, Help: "how many to show"},
		},
		Func: biggest,
	})
	reg.MustAdd(task.Task{
		Name: "uptime-json",
		Help: "Report each host's uptime as JSON (run it with -H host1,host2)",
		Func: func(ctx context.Context, j *task.Job) error {
			res, err := j.Run(ctx, "cat /proc/uptime", task.Hide())
			if err != nil {
				return err
			}
			fields := strings.Fields(string(res.Stdout))
			if len(fields) == 0 {
				return fmt.Errorf("unexpected /proc/uptime: %q", res.Stdout)
			}
			out, _ := json.Marshal(map[string]string{"host": j.Host(), "uptime_seconds": fields[0]})
			fmt.Fprintln(j.Stdout(), string(out))
			return nil
		},
	})
	return reg
}

// Show the largest files in a directory, parsed from du's output.
//
// The task sets no Help, so its help is this doc comment, which gotask
// reads when it builds the Go tasks. It runs du, parses its output and
// acts on it: the kind of task that is easier in Go than in a shell line.
func biggest(ctx context.Context, j *task.Job) error {
	res, err := j.Run(ctx, "du -a -k "+task.Quote(j.String("dir")), task.Hide())
	if err != nil {
		return err
	}
	type entry struct {
		kb   int
		path string
	}
	var entries []entry
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		size, path, ok := strings.Cut(line, "\t") // du: size, a tab, the path (spaces and all)
		if kb, err := strconv.Atoi(size); ok && err == nil {
			entries = append(entries, entry{kb: kb, path: path})
		}
	}
	for i := 0; i < len(entries); i++ {
		for k := i + 1; k < len(entries); k++ {
			if entries[k].kb > entries[i].kb {
				entries[i], entries[k] = entries[k], entries[i]
			}
		}
	}
	for i := 0; i < j.Int("top") && i < len(entries); i++ {
		fmt.Fprintf(j.Stdout(), "%8d KiB  %s\n", entries[i].kb, entries[i].path)
	}
	return nil
}
