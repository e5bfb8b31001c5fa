package report

import (
	"testing"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestChange(t *testing.T) {
	cpu := workload.Millicores.String
	for _, tc := range []struct {
		cur, rec workload.Millicores
		pct      bool
		want     string
	}{
		{500, 120, true, "500m → 120m (-76%)"},
		{1000, 0, false, "1 → none"},
		{0, 0, true, "—"},
		{0, 250, true, "none → 250m"},
		{250, 250, true, "250m"},
		{1000, 1001, true, "1 → 1001m (~0%)"},
		{2000, 3000, true, "2 → 3 (+50%)"},
		{2000, 3000, false, "2 → 3"},
	} {
		if got := change(tc.cur, tc.rec, cpu, tc.pct); got != tc.want {
			t.Errorf("change(%d, %d) = %q, want %q", tc.cur, tc.rec, got, tc.want)
		}
	}
	if got := change(workload.Bytes(512*workload.MiB), 100_000_000, memory, true); got != "512Mi → ~95Mi (-81%)" {
		t.Errorf("memory change = %q", got)
	}
}

func TestCores(t *testing.T) {
	for m, want := range map[workload.Millicores]string{0: "", 1: "0.001", 120: "0.12", 1000: "1", 1500: "1.5", 12345: "12.345"} {
		if got := cores(m); got != want {
			t.Errorf("cores(%d) = %q, want %q", m, got, want)
		}
	}
}

func TestTotal(t *testing.T) {
	for _, tc := range []struct {
		cur, rec float64
		want     string
	}{
		{12.5, 4.2, "12.5 → 4.2 cores (-66%)"},
		{0.3, 0.12, "0.30 → 0.12 cores (-60%)"},
		{2, 2, "2.00 cores (no change)"},
		{0, 1, "0.00 → 1.00 cores"},
	} {
		if got := total(tc.cur, tc.rec, "cores"); got != tc.want {
			t.Errorf("total(%v, %v) = %q, want %q", tc.cur, tc.rec, got, tc.want)
		}
	}
}

func TestPodRequests(t *testing.T) {
	req := func(cpu workload.Millicores, mem workload.Bytes) workload.Settings {
		return workload.Settings{Requests: workload.Resources{CPU: cpu, Memory: mem}}
	}
	cs := []workload.ContainerPlan{
		{Name: "sidecar", Init: true, Sidecar: true, Current: req(100, 100)},
		{Name: "migrate", Init: true, Current: req(2000, 50)},
		{Name: "app", Current: req(500, 1000)},
		{Name: "worker", Current: req(300, 500)},
	}
	got := workload.PodRequests(cs, func(c workload.ContainerPlan) workload.Settings { return c.Current })
	// CPU: the init container beside the sidecar (2100) beats app+worker+sidecar (900);
	// memory: app+worker+sidecar (1600) beats init+sidecar (150).
	if want := (workload.Resources{CPU: 2100, Memory: 1600}); got != want {
		t.Errorf("podRequests = %+v, want %+v", got, want)
	}
}

func TestPricesLine(t *testing.T) {
	for _, tc := range []struct {
		prices map[string]float64
		want   string
	}{
		{nil, ""},
		{map[string]float64{"balanced": 0}, ""},
		{map[string]float64{"balanced": 2}, "CPU requests raised where time short is cheap to avoid, at the fleet's price: 2 cores (balanced)"},
		{map[string]float64{"savings": 1.5, "balanced": 0, "reliability": 20}, "CPU requests raised where time short is cheap to avoid, at the fleet's price: 20 cores (reliability), 1.5 cores (savings)"},
		{map[string]float64{"x\x1b[2J": 3}, "CPU requests raised where time short is cheap to avoid, at the fleet's price: 3 cores (x\\x1b[2J)"},
	} {
		if got := pricesLine(workload.Plan{CPUPrices: tc.prices}); got != tc.want {
			t.Errorf("pricesLine(%v) = %q, want %q", tc.prices, got, tc.want)
		}
	}
}
