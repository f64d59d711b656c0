package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionString(t *testing.T) {
	setting := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "9f82627a1b2c3d4e5f60718293a4b5c6d7e8f901"
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{
			name: "no build information",
			want: "devel (no build information)",
		},
		{
			name: "a release, from go install module@version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "v1.2.0"}},
			want: "v1.2.0",
		},
		{
			name: "a commit, which go build stamps as a pseudo-version",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "v0.0.0-20261206001813-9f82627a1b2c+dirty"},
				Settings: setting("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-06T00:18:13Z", "vcs.modified", "true")},
			want: "v0.0.0-20261206001813-9f82627a1b2c+dirty",
		},
		{
			name: "a checkout with VCS information but no version",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "(devel)"},
				Settings: setting("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-06T00:18:13Z", "vcs.modified", "false")},
			want: "devel 9f82627a1b2c, committed 2026-12-06T00:18:13Z (go1.26.8)",
		},
		{
			name: "a checkout with local changes",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "(devel)"},
				Settings: setting("vcs", "git", "vcs.revision", rev, "vcs.modified", "true")},
			want: "devel 9f82627a1b2c, modified (go1.26.8)",
		},
		{
			name: "go run, or -buildvcs=false",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "(devel)"}},
			want: "devel, no VCS information (built by go run, or with -buildvcs=false) (go1.26.8)",
		},
		{
			name: "a binary of Go tasks, built against a release",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "gotasks", Version: "(devel)"},
				Deps: []*debug.Module{{Path: modulePath, Version: "v1.2.0"}}},
			want: "v1.2.0",
		},
		{
			name: "a binary of Go tasks, built against gotask's copy of its source",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "gotasks", Version: "(devel)"},
				Deps: []*debug.Module{{Path: modulePath, Version: "v0.0.0", Replace: &debug.Module{Path: "/cache/src/abc"}}}},
			want: "devel, built from the source at /cache/src/abc (go1.26.8)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionString(tt.bi, tt.bi != nil); got != tt.want {
				t.Errorf("versionString() = %q\nwant                %q", got, tt.want)
			}
		})
	}
}
