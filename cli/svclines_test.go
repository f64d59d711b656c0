package cli

import "testing"

// TestServiceLinesNamespaced: gotask logs web:api keeps web:api's lines,
// its output ([web:api], [web:api.2]) and gotask's lines about it
// ("gotask: web:api.1: ..."), and no other service's, also for a
// namespace with a dot in it (v1.2:api), and on hosts ([web1 web:api]).
func TestServiceLinesNamespaced(t *testing.T) {
	keep := serviceLines([]string{"web:api", "v1.2:api"})
	for line, want := range map[string]bool{
		"[web:api] hello":                       true,
		"[web:api.2] hello":                     true,
		"gotask: web:api.1: exited 1":           true,
		"gotask: web:api: watch: a.go changed":  true,
		"[v1.2:api] hello":                      true,
		"gotask: v1.2:api.3: ready":             true,
		"[web1 web:api.2] on a host":            true,
		"gotask: web1 web:api: ready":           true,
		"[web1 web:db] on a host":               false,
		"[web:db] hello":                        false,
		"gotask: web:db: exited 1":              false,
		"gotask: web: not a service":            false,
		"[api] top file's api":                  false,
		"gotask: api.1: top file's api, exited": false,
	} {
		if got := keep([]byte(line)); got != want {
			t.Errorf("filter(%q) = %v, want %v", line, got, want)
		}
	}
}
