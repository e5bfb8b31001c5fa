package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/patch"
)

// TestPlanPatchCount: the count on stderr is of the patch files written,
// kustomization.yaml named apart and not counted among them.
func TestPlanPatchCount(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, "plan", "--patches", dir)
	require.Equal(t, 0, code, errOut)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	patches := 0
	for _, e := range entries {
		if e.Name() != patch.KustomizationFile && filepath.Ext(e.Name()) == ".yaml" {
			patches++
		}
	}
	require.NotZero(t, patches)
	assert.Contains(t, errOut, fmt.Sprintf("wrote %d patch file(s) and kustomization.yaml to %s\n", patches, dir))
}

func TestParseWorkloadKey(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want workload.Key
		err  string
	}{
		{in: "shop/StatefulSet/orders-db", want: workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "orders-db"}},
		{in: "kube-system/DaemonSet/node-exporter.v1", want: workload.Key{Namespace: "kube-system", Kind: workload.DaemonSet, Name: "node-exporter.v1"}},
		{in: "shop/web", err: `"shop/web" is not NAMESPACE/KIND/NAME`},
		{in: "shop/Deployment/web/x", err: "is not NAMESPACE/KIND/NAME"},
		{in: "/Deployment/web", err: "is not NAMESPACE/KIND/NAME"},
		{in: "shop/deployment/web", err: `unknown kind "deployment"`},
		{in: "Shop/Deployment/web", err: `"Shop/Deployment/web": invalid namespace: a lowercase RFC 1123 label`},
		{in: "shop/Deployment/web\n---", err: `"shop/Deployment/web\n---": invalid name: a lowercase RFC 1123 subdomain`},
		{in: "shop/Deployment/" + strings.Repeat("a", 254), err: "must be no more than 253 characters"},
		{in: "shop/Deployment/\x1b[31mred", err: `\x1b[31mred`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			k, err := parseWorkloadKey(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, k)
		})
	}
}

// TestPlanCriticalInvalidName: --critical with a name no workload can have
// is a usage error that quotes it, control characters escaped.
func TestPlanCriticalInvalidName(t *testing.T) {
	code, _, errOut := run(t, "plan", "--critical", "shop/Deployment/web\n\x1b[2J")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, `"shop/Deployment/web\n\x1b[2J": invalid name`)
	assert.NotContains(t, errOut, "\x1b")
}

// FuzzParseWorkloadKey: a key that parses prints back as the input and has
// valid names; a key with valid names round-trips through Key.String; error
// messages stay one printable line of bounded length.
func FuzzParseWorkloadKey(f *testing.F) {
	f.Add("shop/StatefulSet/orders-db", "shop", "Deployment", "web")
	f.Add("a/Job/b.c", "kube-system", "DaemonSet", "node-exporter")
	f.Add("shop/Deployment/web\n", "shop/x", "CronJob", "a/b")
	f.Add("//", "", "Pod", "")
	f.Add("Shop/Gadget/x", "Shop", "Gadget", "-x")
	f.Fuzz(func(t *testing.T, s, ns, kind, name string) {
		alloclimit.Check(t, alloclimit.Bound(len(s)+len(ns)+len(kind)+len(name)), func() {
			k, err := parseWorkloadKey(s)
			if err != nil {
				checkMessage(t, err)
				return
			}
			if k.String() != s {
				t.Fatalf("parseWorkloadKey(%q) = %v, which prints as %q", s, k, k.String())
			}
			if !validKey(k) {
				t.Fatalf("parseWorkloadKey(%q) accepted invalid names: %#v", s, k)
			}

			key := workload.Key{Namespace: ns, Kind: workload.Kind(kind), Name: name}
			got, err := parseWorkloadKey(key.String())
			switch {
			case validKey(key) && (err != nil || got != key):
				t.Fatalf("valid key %#v: parsed as %#v, err %v", key, got, err)
			case !validKey(key) && err == nil:
				t.Fatalf("invalid key %#v: parsed as %#v", key, got)
			case err != nil:
				checkMessage(t, err)
			}
		})
	})
}

func validKey(k workload.Key) bool {
	_, known := workload.ParseKind(string(k.Kind))
	return known && len(validation.IsDNS1123Label(k.Namespace)) == 0 && len(validation.IsDNS1123Subdomain(k.Name)) == 0
}

// checkMessage fails t when an error message could forge lines on a
// terminal or repeat an argument at length.
func checkMessage(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.IndexFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		t.Fatalf("message with unescaped control characters: %q", msg)
	}
	if len(msg) > 3*4*untrusted.MaxQuoted+600 {
		t.Fatalf("message of %d bytes", len(msg))
	}
}
