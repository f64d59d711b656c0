// Command proto is the bare prototype that issue 2's start-up target was
// set against: cobra and go-toml listing a tasks.toml, with none of
// gotask's features. The benchmark builds it to show, on the machine at
// hand, how much of `gotask -l` is the floor of those two libraries.
package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"
)

func main() {
	var file string
	var list bool
	root := &cobra.Command{
		Use:          "proto",
		SilenceUsage: true,
		RunE: func(*cobra.Command, []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			var doc struct {
				Tasks map[string]struct {
					Help string `toml:"help"`
				} `toml:"tasks"`
			}
			if err := toml.Unmarshal(data, &doc); err != nil {
				return err
			}
			names := make([]string, 0, len(doc.Tasks))
			for name := range doc.Tasks {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				fmt.Printf("  %-12s %s\n", name, doc.Tasks[name].Help)
			}
			return nil
		},
	}
	root.Flags().StringVarP(&file, "file", "f", "tasks.toml", "the tasks file")
	root.Flags().BoolVarP(&list, "list", "l", false, "list the tasks")
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
