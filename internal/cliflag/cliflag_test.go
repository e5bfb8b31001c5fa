package cliflag

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// TestParseDurationOverflow: "99999999999d" wrapped around to a negative
// duration. A count of days past what a Duration holds is an error.
func TestParseDurationOverflow(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"14d", 14 * day, ""},
		{"1d12h", 36 * time.Hour, ""},
		{" 7d ", 7 * day, ""},
		{"30m", 30 * time.Minute, ""},
		{"-1d", -day, ""},
		{"106751d23h47m16s", 106751*day + 23*time.Hour + 47*time.Minute + 16*time.Second, ""},
		{"106751d23h47m16s854ms", math.MaxInt64 - 775807, ""},
		{"2w", 14 * day, ""},
		{"90s", 90 * time.Second, ""},
		{"1.5h", 90 * time.Minute, ""},
		{"36h0m0s", 36 * time.Hour, ""},
		{"99999999999d", 0, `invalid duration "99999999999d": more than 106751 days`},
		{"106752d", 0, `invalid duration "106752d": more than 106751 days`},
		{"-106752d", 0, `invalid duration "-106752d": more than 106751 days`},
		{"106751d23h47m17s", 0, `invalid duration "106751d23h47m17s": more than 106751 days`},
		{"99999999999999999999d", 0, `invalid duration "99999999999999999999d" (use e.g. 30m, 24h, 7d)`},
		{"1.5d", 0, `invalid duration "1.5d" (use e.g. 30m, 24h, 7d)`},
		{"1d1x", 0, `invalid duration "1d1x" (use e.g. 30m, 24h, 7d)`},
		{"1h1d", 0, `invalid duration "1h1d" (use e.g. 30m, 24h, 7d)`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDuration(tc.in)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestTimeValueKeepsFraction: the shown value dropped fractions of a
// second, so it did not read back as the instant set.
func TestTimeValueKeepsFraction(t *testing.T) {
	var tm time.Time
	v := timeValue{&tm}
	assert.Equal(t, "", v.String())
	require.NoError(t, v.Set("2026-11-01T00:00:00.5+01:00"))
	assert.Equal(t, "2026-11-01T00:00:00.5+01:00", v.String())
	assert.EqualError(t, v.Set("2026-11-01"), `invalid time "2026-11-01" (want RFC 3339, e.g. 2026-11-01T00:00:00Z)`)
}

func TestQuantityFlags(t *testing.T) {
	var c workload.Cores
	var b workload.Bytes
	cv, bv := coresValue{&c}, bytesValue{&b}
	for _, tc := range []struct {
		value interface {
			Set(string) error
			String() string
		}
		in, want, err string
	}{
		{cv, "10000", "10000", ""},
		{cv, "500m", "0.5", ""},
		{cv, "2k", "2000", ""},
		{cv, "0", "", `invalid quantity "0": must be positive`},
		{cv, "-1", "", `invalid quantity "-1": must be positive`},
		{cv, "lots", "", `invalid quantity "lots" (use e.g. 500m, 64, 1Ti)`},
		{bv, "1Pi", "1Pi", ""},
		{bv, "512Gi", "512Gi", ""},
		{bv, "1e12", "976562500Ki", ""},
		{bv, "100Ei", "", `invalid quantity "100Ei": more bytes than fit in 64 bits`},
		{bv, "0Ki", "", `invalid quantity "0Ki": must be positive`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			err := tc.value.Set(tc.in)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, tc.value.String())
		})
	}
}

// FuzzParseDuration: whatever the text, parsing ends without a panic, a
// duration without a minus sign is not negative, and the shown form of a
// duration reads back as the same duration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"14d", "1d12h", "30m", "99999999999d", "106751d23h47m16s", "-1d", "1d-24h", "d", "1.5h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d time.Duration
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() { d, err = parseDuration(s) })
		if err != nil {
			return
		}
		if d < 0 && !strings.Contains(s, "-") {
			t.Fatalf("parseDuration(%q) = %v, negative", s, d)
		}
		back, err := parseDuration(formatDuration(d))
		if err != nil || back != d {
			t.Fatalf("parseDuration(%q) = %v, shown as %q, read back as %v, %v", s, d, formatDuration(d), back, err)
		}
	})
}

// FuzzTimeValue: whatever the text, setting ends without a panic, and the
// shown form of an instant reads back as the same instant.
func FuzzTimeValue(f *testing.F) {
	for _, s := range []string{"2026-11-01T00:00:00Z", "2026-11-01T00:00:00.5Z", "2026-11-01T01:00:00+01:00", "0000-01-01T00:00:00Z", "yesterday", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var tm, back time.Time
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() { err = timeValue{&tm}.Set(s) })
		if err != nil || tm.IsZero() {
			return // the zero instant shows as unset, by design
		}
		shown := timeValue{&tm}.String()
		if err := (timeValue{&back}).Set(shown); err != nil || !back.Equal(tm) {
			t.Fatalf("Set(%q) = %v, shown as %q, read back as %v, %v", s, tm, shown, back, err)
		}
	})
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
			k, err := WorkloadKey(tc.in)
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
			k, err := WorkloadKey(s)
			if err != nil {
				checkMessage(t, err)
				return
			}
			if k.String() != s {
				t.Fatalf("WorkloadKey(%q) = %v, which prints as %q", s, k, k.String())
			}
			if !validKey(k) {
				t.Fatalf("WorkloadKey(%q) accepted invalid names: %#v", s, k)
			}

			key := workload.Key{Namespace: ns, Kind: workload.Kind(kind), Name: name}
			got, err := WorkloadKey(key.String())
			switch {
			case validKey(key) && (err != nil || got != key):
				t.Fatalf("valid key %#v: parsed as %#v, err %v", key, got, err)
			case !validKey(key) && err == nil && (!validKey(got) || got.String() != key.String()):
				// An invalid key may print as a valid one: name "a@b" as
				// name "a" in cluster "b". Anything else must be refused.
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

func TestByteSize(t *testing.T) {
	for in, want := range map[string]workload.Bytes{"100M": 100_000_000, "1048576": workload.MiB, "auto": 0, "2Gi": 2 * workload.GiB} {
		var b workload.Bytes
		require.NoError(t, ByteSize(&b).Set(in), in)
		assert.Equal(t, want, b, in)
	}
	for _, in := range []string{"-1Mi", "1.5", "lots", "1e30"} {
		var b workload.Bytes
		assert.Error(t, ByteSize(&b).Set(in), in)
	}
	var b workload.Bytes
	assert.Equal(t, "auto", ByteSize(&b).String())
}

func TestWorkloadKeys(t *testing.T) {
	got, err := WorkloadKeys("--critical", []string{"shop/StatefulSet/db", "shop/web", "x/Gadget/y"})
	assert.Equal(t, map[workload.Key]bool{{Namespace: "shop", Kind: workload.StatefulSet, Name: "db"}: true}, got, "the sound ones are kept")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--critical: "shop/web" is not NAMESPACE/KIND/NAME`)
	assert.Contains(t, err.Error(), `--critical: "x/Gadget/y": unknown kind "Gadget"`)
}

// TestWorkloadKeyCluster: a key may name its cluster after an @, as plans
// write it; the cluster's name may hold / and :, not a control character.
func TestWorkloadKeyCluster(t *testing.T) {
	k, err := WorkloadKey("shop/Deployment/web@arn:aws:eks:eu-west-1:123456789012:cluster/prod")
	require.NoError(t, err)
	assert.Equal(t, workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web", Cluster: "arn:aws:eks:eu-west-1:123456789012:cluster/prod"}, k)
	assert.Equal(t, "shop/Deployment/web@arn:aws:eks:eu-west-1:123456789012:cluster/prod", k.String(), "read back as written")
	for _, bad := range []string{"shop/Deployment/web@", "shop/Deployment/web@a\x1b[2J", "shop/Deployment@prod/web"} {
		_, err := WorkloadKey(bad)
		assert.Error(t, err, bad)
	}
}
