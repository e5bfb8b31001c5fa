package buildinfo

import (
	"encoding/json"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// clientGoModule is the Kubernetes client library whose version rightsize
// reports, as kubectl reports its client version.
const clientGoModule = "k8s.io/client-go"

// Info is what rightsize version prints.
type Info struct {
	Version string `json:"version"`
	// Commit is the VCS revision built (vcs.revision), CommitTime its time
	// (vcs.time) and Modified whether the tree held uncommitted changes
	// (vcs.modified): go build records them in a git checkout.
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commitTime,omitempty"`
	Modified   bool   `json:"modified,omitempty"`
	GoVersion  string `json:"goVersion"`
	Platform   string `json:"platform"`
	// ClientGo is the version of k8s.io/client-go linked in.
	ClientGo string `json:"clientGoVersion,omitempty"`
}

// Current is Read of the running binary's build information.
func Current(version string) Info {
	bi, _ := debug.ReadBuildInfo()
	return Read(bi, version)
}

// Read gathers the version from the build information (nil when the
// binary has none) and the version set at build time: that version if
// set, else the main module's (go install …@v1.2.3 records it), else
// "dev".
func Read(bi *debug.BuildInfo, version string) Info {
	v := Info{
		Version:   version,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi == nil {
		if v.Version == "" {
			v.Version = "dev"
		}
		return v
	}
	if bi.GoVersion != "" {
		v.GoVersion = bi.GoVersion
	}
	if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		v.Platform = goos + "/" + goarch
	}
	for _, d := range bi.Deps {
		if d.Path == clientGoModule {
			if d.Replace != nil && d.Replace.Version != "" {
				d = d.Replace
			}
			v.ClientGo = d.Version
		}
	}
	return v
}

// String is the one line rightsize version prints, e.g.
//
//	rightsize v0.3.0 (commit 305b462d81c4, 2026-12-05T10:00:00Z, modified), go1.27.3 linux/amd64, client-go v0.34.4
func (v Info) String() string {
	var b strings.Builder
	b.WriteString("rightsize " + v.Version)
	var vcs []string
	if v.Commit != "" {
		vcs = append(vcs, "commit "+shortCommit(v.Commit))
	}
	if v.CommitTime != "" {
		vcs = append(vcs, v.CommitTime)
	}
	if v.Modified {
		vcs = append(vcs, "modified")
	}
	if len(vcs) > 0 {
		b.WriteString(" (" + strings.Join(vcs, ", ") + ")")
	}
	b.WriteString(", " + v.GoVersion + " " + v.Platform)
	if v.ClientGo != "" {
		b.WriteString(", client-go " + v.ClientGo)
	}
	return b.String()
}

// shortCommit abbreviates a revision to 12 characters, as Go's
// pseudo-versions do.
func shortCommit(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// WriteJSON writes v as an indented JSON object.
func (v Info) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
