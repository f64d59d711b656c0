package fingerprint_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gotask/gotask/internal/fingerprint"
)

func ExampleStore_Check() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
			log.Fatal(err)
		}
	}
	write("go.mod", "module hello\n")
	write("main.go", "package main\n")

	store := &fingerprint.Store{Dir: filepath.Join(dir, ".gotask")}
	spec := &fingerprint.Spec{
		Dir:        dir,
		Sources:    []string{"**/*.go", "go.mod", "!vendor/**"},
		Generates:  []string{"bin/hello"},
		Definition: []byte("go build -o bin/hello ."),
	}
	run := func() {
		st, err := store.Check(ctx, "build", spec)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(st)
		if st.UpToDate {
			return
		}
		write("bin/hello", "\x7fELF") // the task's run
		if err := store.Record(ctx, st); err != nil {
			log.Fatal(err)
		}
	}
	run()
	run()
	write("util.go", "package main\n")
	run()
	// Output:
	// no record of a previous run; bin/hello (generated) is missing
	// up to date
	// util.go added
}
