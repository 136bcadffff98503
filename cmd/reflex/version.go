package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version overrides the module version when set at build time with
// -ldflags "-X main.version=…" (the Dockerfile does, its build having no
// VCS information).
var version = "dev"

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of reflex",
		Long: `Print the version of reflex: the module version, and the VCS revision, its
time and whether the tree had uncommitted changes, as the build recorded
them; then the Go version and platform. "reflex --version" prints the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "reflex version %s\n", versionString())
			return err
		},
	}
}

// versionString describes this build, e.g.
// "v1.2.0 (revision 98ba10d86c37, 2026-01-02T03:04:05Z, modified; go1.26.0 linux/amd64)".
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = &debug.BuildInfo{}
	}
	return describeBuild(version, info, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
}

// describeBuild is versionString for the given -X override, build
// information and platform.
func describeBuild(override string, info *debug.BuildInfo, goVersion, platform string) string {
	v := override
	if v == "" || v == "dev" {
		v = "dev"
		if mv := info.Main.Version; mv != "" && mv != "(devel)" {
			v = mv
		}
	}
	var details []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		details = append(details, "revision "+rev[:min(len(rev), 12)])
	}
	if t := settings["vcs.time"]; t != "" {
		details = append(details, t)
	}
	if settings["vcs.modified"] == "true" {
		details = append(details, "modified")
	}
	build := goVersion + " " + platform
	if len(details) > 0 {
		build = strings.Join(details, ", ") + "; " + build
	}
	return fmt.Sprintf("%s (%s)", v, build)
}
