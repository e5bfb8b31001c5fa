package cost

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSONShape checks the document's stable field names and types, and
// that its figures add up.
func TestJSONShape(t *testing.T) {
	r, err := Build(demoInputWithTeams(t))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, r))

	var raw map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &raw))
	assert.Equal(t, "rightsize.dev/v1alpha1", raw["apiVersion"])
	assert.Equal(t, "CostReport", raw["kind"])
	for key, kind := range map[string]string{
		"title": "string", "source": "string", "profile": "string", "currency": "string",
		"prices": "object", "period": "object", "previousPeriod": "object", "history": "object",
		"totals": "object", "previous": "object", "change": "object",
		"namespaces": "array", "teamLabel": "string", "teams": "array", "workloads": "array", "daily": "array",
		"topSavings": "array", "extraCost": "array", "risks": "array", "qos": "array", "hpa": "object", "confidence": "array",
	} {
		require.Contains(t, raw, key)
		assert.Equal(t, kind, jsonKind(raw[key]), key)
	}
	totals := raw["totals"].(map[string]any)
	for _, key := range []string{"requested", "used", "idle", "savings", "grossSavings", "extraCost", "podHours", "workloads", "pods"} {
		assert.Equal(t, "number", jsonKind(totals[key]), "totals.%s", key)
	}
	assert.Equal(t, "number", jsonKind(totals["cpu"].(map[string]any)["requestedCoreHours"]))
	assert.Equal(t, "number", jsonKind(totals["memory"].(map[string]any)["idleGiBHours"]))
	w := raw["workloads"].([]any)[0].(map[string]any)
	for _, key := range []string{"namespace", "kind", "name", "team", "replicas", "qos", "requests", "confidence", "cost", "previous"} {
		assert.Contains(t, w, key, "workloads[0]")
	}
	assert.Equal(t, "string", jsonKind(w["requests"].(map[string]any)["current"].(map[string]any)["cpu"]), "requests are quantity strings")
	risk := raw["risks"].([]any)[0].(map[string]any)
	for _, key := range []string{"severity", "kind", "namespace", "workloadKind", "workload", "rule", "detail"} {
		assert.Contains(t, risk, key, "risks[0]")
	}

	var doc Document
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	sum := func(get func(CostDocument) float64, items []CostDocument) float64 {
		s := 0.0
		for _, c := range items {
			s += get(c)
		}
		return s
	}
	var ns, teams, wl []CostDocument
	for _, g := range doc.Namespaces {
		ns = append(ns, g.Cost)
	}
	for _, g := range doc.Teams {
		teams = append(teams, g.Cost)
	}
	for _, x := range doc.Workloads {
		wl = append(wl, x.Cost)
	}
	for name, get := range map[string]func(CostDocument) float64{
		"requested": func(c CostDocument) float64 { return c.Requested },
		"used":      func(c CostDocument) float64 { return c.Used },
		"idle":      func(c CostDocument) float64 { return c.Idle },
		"savings":   func(c CostDocument) float64 { return c.Savings },
	} {
		total := get(doc.Totals.CostDocument)
		assert.InDelta(t, total, sum(get, ns), 1e-3, "namespaces add up to the total %s", name)
		assert.InDelta(t, total, sum(get, teams), 1e-3, "teams add up to the total %s", name)
		assert.InDelta(t, total, sum(get, wl), 1e-3, "workloads add up to the total %s", name)
	}
	days := 0.0
	for _, d := range doc.Daily {
		days += d.Requested
	}
	assert.InDelta(t, doc.Totals.Requested, days, 1e-3, "days add up to the total")
	assert.InDelta(t, doc.Totals.Requested, doc.Totals.CPU.Requested*doc.Prices.CPUPerCoreHour+doc.Totals.Memory.Requested*doc.Prices.MemoryPerGiBHour, 0.01,
		"requested cost is resource-hours times prices")
	require.NotNil(t, doc.Change)
	require.NotNil(t, doc.Change.Requested)
	assert.InDelta(t, doc.Totals.Requested/doc.Previous.Requested-1, *doc.Change.Requested, 1e-3)
	assert.Len(t, doc.Daily, 7)
	assert.Equal(t, "2026-11-08T00:00:00Z", doc.Daily[0].Start)
	assert.Equal(t, 1, doc.HPA.Covered)
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return "unknown"
}
