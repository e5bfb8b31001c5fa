package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// StateDir is where metrics-server history is kept by default, after the
// XDG base directory convention for state: $XDG_STATE_HOME/rightsize, else
// ~/.local/state/rightsize; "" when neither can be found.
func StateDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "rightsize")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "state", "rightsize")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "rightsize")
	}
	return ""
}

// Name names a cluster's state file: its readable host and port plus a hash
// of the full server URL, so that two clusters never share history.
func Name(server string) string {
	host := server
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		host = u.Host
	}
	var b strings.Builder
	for _, r := range host {
		if r == '.' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(server))
	return b.String() + "-" + hex.EncodeToString(sum[:4])
}
