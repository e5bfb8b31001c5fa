package policy

import (
	"encoding/binary"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// negativeNumber finds a printed negative amount such as
// "-9223372036854775808m" in a reason.
var negativeNumber = regexp.MustCompile(`-\d`)

// checkRecommendation fails t unless every recommended amount lies within
// [0, the physical maximum], the confidence within [0, 1], and no reason
// prints a negative, NaN or infinite number.
func checkRecommendation(t testing.TB, rec workload.Recommendation) {
	t.Helper()
	if c := rec.Confidence; !(c >= 0 && c <= 1) {
		t.Errorf("confidence %v outside [0, 1]", c)
	}
	if rec.HasCPU {
		for what, v := range map[string]workload.Millicores{
			"request": rec.Target.Requests.CPU, "limit": rec.Target.Limits.CPU,
			"lower bound": rec.LowerBound.CPU, "upper bound": rec.UpperBound.CPU,
		} {
			if v < 0 || v > workload.MaxCPU {
				t.Errorf("cpu %s %dm outside [0, %dm]", what, v, workload.MaxCPU)
			}
		}
	}
	if rec.HasMemory {
		for what, v := range map[string]workload.Bytes{
			"request": rec.Target.Requests.Memory, "limit": rec.Target.Limits.Memory,
			"lower bound": rec.LowerBound.Memory, "upper bound": rec.UpperBound.Memory,
		} {
			if v < 0 || v > workload.MaxMemory {
				t.Errorf("memory %s %d outside [0, %d]", what, v, workload.MaxMemory)
			}
		}
	}
	for _, r := range rec.Reasons {
		if negativeNumber.MatchString(r) || strings.Contains(r, "NaN") || strings.Contains(r, "Inf") {
			t.Errorf("reason prints a number out of range: %s", r)
		}
	}
}

// extremeCase is a day of ordinary samples plus what a corrupt file or a
// unit mix-up adds.
type extremeCase struct {
	name string
	add  func(st *history.Store)
	// withheld names the resources the profiles in by (all when empty) may
	// not recommend: those taking the highest sample (balanced's and
	// documents' limits) see an outlier that quantiles skip.
	withheld []string
	by       []string
}

func extremeCases() []extremeCase {
	end := t0.Add(24 * time.Hour)
	at := func(tm time.Time, cpu workload.Cores, mem workload.Bytes) workload.Sample {
		return workload.Sample{Time: tm, Pod: "p", CPU: cpu, HasCPU: true, Memory: mem, HasMemory: true,
			Settings: workload.Settings{Requests: res(500, workload.GiB), Limits: res(1000, workload.GiB)}}
	}
	one := func(smp workload.Sample) func(*history.Store) {
		return func(st *history.Store) { st.Add(key, smp) }
	}
	maxima := []string{"balanced", "documents"}
	return []extremeCase{
		{name: "nothing odd", add: func(*history.Store) {}},
		{name: "1e308 cores", add: one(at(end, 1e308, workload.MiB)), withheld: []string{"cpu"}, by: maxima},
		{name: "+Inf cores", add: one(at(end, workload.Cores(math.Inf(1)), workload.MiB)), withheld: []string{"cpu"}, by: maxima},
		{name: "-1e308 cores", add: one(at(end, -1e308, workload.MiB))},
		{name: "MaxInt64 bytes", add: one(at(end, 0.1, math.MaxInt64)), withheld: []string{"memory"}},
		{name: "20000 cores", add: one(at(end, 20000, workload.MiB)), withheld: []string{"cpu"}, by: maxima},
		{name: "a sample at year -290000", add: one(at(time.Date(-290000, 1, 1, 0, 0, 0, 0, time.UTC), 0.1, workload.MiB))},
		{name: "a sample 1600 years back", add: one(at(t0.AddDate(-1600, 0, 0), 0.1, workload.MiB))},
		{name: "an OOM kill at the int64 limit", add: func(st *history.Store) {
			smp := at(end, 0.1, math.MaxInt64)
			smp.OOMKilled, smp.Settings.Limits.Memory = true, math.MaxInt64
			st.Add(key, smp)
		}, withheld: []string{"memory"}},
		{name: "current settings at the int64 limit", add: one(workload.Sample{Time: end, Pod: "p", CPU: 0.1, HasCPU: true, Memory: workload.MiB, HasMemory: true,
			Settings: workload.Settings{Requests: res(1, 1), Limits: res(math.MaxInt64, math.MaxInt64)}})},
		{name: "throttled at +Inf", add: func(st *history.Store) {
			smp := at(end, 0.1, workload.MiB)
			smp.Throttled, smp.HasThrottled = math.Inf(1), true
			st.Add(key, smp)
		}},
	}
}

// TestApplyExtremeHistory runs every profile over histories holding values
// no container produces. One value of 1e308 cores once printed
// "-9223372036854775808m" in the reasons with a blank request, and one
// sample 1600 years back a confidence of -Inf and an 8 EiB memory request:
// now amounts stay within the physical maxima, and a resource whose
// recommendation would exceed them gets none, with the reason.
func TestApplyExtremeHistory(t *testing.T) {
	names := make([]string, 0, len(Profiles()))
	for n := range Profiles() {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, tc := range extremeCases() {
		for _, name := range names {
			p := Profiles()[name]
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				st := history.NewStore()
				for i := range 288 {
					st.Add(key, workload.Sample{Time: t0.Add(time.Duration(i) * 5 * time.Minute), Pod: "p",
						CPU: 0.25, HasCPU: true, Memory: 300 * workload.MiB, HasMemory: true,
						Settings: workload.Settings{Requests: res(500, workload.GiB), Limits: res(1000, workload.GiB)}})
				}
				tc.add(st)
				st.Finalize()
				_, last := st.Span()
				until := last.Add(time.Millisecond)
				series := st.Series(key)
				s, err := history.Summarize(key, series, history.OOMsFromSeries(series, until), until, p.History)
				require.NoError(t, err)
				// The fleet's price, from this container alone and at the
				// grid's ends: no amount out of range, no NaN in a reason.
				if pr, ok := Probe(p, s); ok {
					var f FleetRisk
					f.Add(pr)
					price, _ := f.Price(*p.CPUFleetPrice)
					for _, x := range []float64{price, 0, 500} {
						checkRecommendation(t, Apply(p, s, Input{Current: s.Current, ContainersInPod: 1, CPUPrice: x, CPUPriced: true}))
					}
				}
				for _, critical := range []bool{false, true} {
					rec := Apply(p, s, Input{Current: s.Current, ContainersInPod: 1, Critical: critical})
					checkRecommendation(t, rec)
					if len(tc.by) > 0 && !slices.Contains(tc.by, name) {
						continue
					}
					for _, r := range tc.withheld {
						has := map[string]bool{"cpu": rec.HasCPU, "memory": rec.HasMemory}[r]
						assert.False(t, has, "%s recommended from broken data", r)
						assert.Contains(t, strings.Join(rec.Reasons, "\n"), r+": no recommendation: the ", "the reason says why")
					}
				}
			})
		}
	}
}

// TestWithheldReason pins the reasons a withheld recommendation gives.
func TestWithheldReason(t *testing.T) {
	p := Documents()
	for _, tc := range []struct {
		name      string
		cpu       float64
		mem       workload.Bytes
		hasCPU    bool
		hasMemory bool
		reason    string
	}{
		{"20000 cores", 20000, 300 * workload.MiB, false, true,
			"cpu: no recommendation: the limit would be 30000 cores, more than any container can be given (10000 cores); check the usage data for implausible samples"},
		{"1e308 cores", 1e308, 300 * workload.MiB, false, true,
			"cpu: no recommendation: the request would be 3.472e+305 cores, more than any container can be given (10000 cores); check the usage data for implausible samples"},
		{"1 PiB", 0.25, workload.PiB, true, false,
			"memory: no recommendation: the limit would be 1.5 PiB, more than any container can be given (1 PiB); check the usage data for implausible samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := summaryOf(t, p, 288, []float64{0.25}, []workload.Bytes{300 * workload.MiB}, func(i int, s *workload.Sample) {
				if i == 100 {
					s.CPU, s.Memory = workload.Cores(tc.cpu), tc.mem
				}
			})
			rec := Apply(p, s, Input{})
			assert.Equal(t, tc.hasCPU, rec.HasCPU)
			assert.Equal(t, tc.hasMemory, rec.HasMemory)
			assert.Contains(t, rec.Reasons, tc.reason)
			checkRecommendation(t, rec)
		})
	}
}

// sampleSize is the bytes FuzzSummarizeApply reads per sample: time (Unix
// ms), CPU (float64 bits), memory (bytes), throttled share (float64 bits)
// and flags.
const sampleSize = 8 + 8 + 8 + 8 + 1

// FuzzSummarizeApply feeds arbitrary sample sets through Summarize and every
// profile: recommended amounts stay within [0, the physical maximum] and
// confidence within [0, 1], whatever the samples hold. Its seed corpus is
// in testdata/fuzz/FuzzSummarizeApply/.
func FuzzSummarizeApply(f *testing.F) {
	profiles := Profiles()
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	f.Fuzz(func(t *testing.T, cpuReq, cpuLim, memReq, memLim int64, raw []byte) {
		raw = raw[:min(len(raw), 512*sampleSize)]
		alloclimit.Check(t, alloclimit.Bound(len(raw)), func() {
			settings := workload.Settings{Requests: res(workload.Millicores(cpuReq), workload.Bytes(memReq)), Limits: res(workload.Millicores(cpuLim), workload.Bytes(memLim))}
			st := history.NewStore()
			for ; len(raw) >= sampleSize; raw = raw[sampleSize:] {
				ms := int64(binary.LittleEndian.Uint64(raw))
				flags := raw[32]
				if flags&0x80 == 0 {
					// Mostly near one another, now and then anywhere.
					ms = t0.UnixMilli() + int64(int32(ms))*1000
				}
				st.Add(key, workload.Sample{
					Time: time.UnixMilli(ms), Pod: string(rune('a' + flags&3)),
					CPU: workload.Cores(math.Float64frombits(binary.LittleEndian.Uint64(raw[8:]))), HasCPU: flags&4 != 0,
					Memory: workload.Bytes(binary.LittleEndian.Uint64(raw[16:])), HasMemory: flags&8 != 0,
					Throttled: math.Float64frombits(binary.LittleEndian.Uint64(raw[24:])), HasThrottled: flags&16 != 0,
					OOMKilled: flags&32 != 0, Settings: settings,
				})
			}
			st.Finalize()
			_, last := st.Span()
			until := last.Add(time.Millisecond)
			series := st.Series(key)
			ooms := history.OOMsFromSeries(series, until)
			for _, name := range names {
				p := profiles[name]
				s, err := history.Summarize(key, series, ooms, until, p.History)
				if err != nil {
					t.Fatal(err)
				}
				if !(s.Confidence >= 0 && s.Confidence <= 1) {
					t.Fatalf("%s: summary confidence %v outside [0, 1]", name, s.Confidence)
				}
				checkRecommendation(t, Apply(p, s, Input{Current: s.Current, ContainersInPod: 2, Critical: cpuReq%2 == 0}))
			}
		})
	})
}
