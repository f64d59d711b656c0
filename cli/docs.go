package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"

	"github.com/gotask/gotask/internal/gobuild"
	"github.com/gotask/gotask/task"
)

// applyFuncDocs gives each Go task of reg that has no Help the doc
// comment of its function, when this program is a binary of Go tasks
// that gotask built: the doc comments, read when it was built, are in
// gobuild.DocsFile beside it. Anything else leaves reg as it is.
func applyFuncDocs(reg *task.Registry) {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(exe), gobuild.DocsFile))
	if err != nil {
		return
	}
	var docs map[string]string
	if json.Unmarshal(data, &docs) != nil || len(docs) == 0 {
		return
	}
	for _, t := range reg.Tasks() {
		if t.Help != "" || t.Func == nil {
			continue
		}
		fn := runtime.FuncForPC(reflect.ValueOf(t.Func).Pointer())
		if fn == nil {
			continue
		}
		if doc, ok := docs[fn.Name()]; ok {
			t.Help = doc
		}
	}
}
