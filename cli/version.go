package cli

import (
	"fmt"
	"runtime/debug"
	"strings"
)

func version(cfg *config) string {
	if cfg != nil && cfg.version != "" {
		return cfg.version
	}
	return versionString(debug.ReadBuildInfo())
}

// versionString says which gotask bi, the build information of this
// binary (ok false for none), was built from: the module version Go
// recorded (a release, or the pseudo-version go build makes from a
// commit, "+dirty" with local changes); else, for a development build,
// the commit, whether the tree was modified and when it was committed;
// else what is known. In a binary of Go tasks, it is the gotask module
// they were built against.
func versionString(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "devel (no build information)"
	}
	m := gotaskModule(bi)
	if m != nil && m.Replace != nil {
		return fmt.Sprintf("devel, built from the source at %s (%s)", m.Replace.Path, bi.GoVersion)
	}
	if m != nil && m.Version != "" && m.Version != "(devel)" {
		return m.Version
	}
	var rev, when string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" || m != &bi.Main {
		return fmt.Sprintf("devel, no VCS information (built by go run, or with -buildvcs=false) (%s)", bi.GoVersion)
	}
	var b strings.Builder
	b.WriteString("devel ")
	b.WriteString(rev[:min(12, len(rev))])
	if modified {
		b.WriteString(", modified")
	}
	if when != "" {
		b.WriteString(", committed " + when)
	}
	fmt.Fprintf(&b, " (%s)", bi.GoVersion)
	return b.String()
}

// gotaskModule returns gotask's module in bi: the main module of gotask
// itself, or a dependency of a binary of Go tasks; nil if neither.
func gotaskModule(bi *debug.BuildInfo) *debug.Module {
	if bi.Main.Path == modulePath {
		return &bi.Main
	}
	for _, dep := range bi.Deps {
		if dep.Path == modulePath {
			return dep
		}
	}
	return nil
}
