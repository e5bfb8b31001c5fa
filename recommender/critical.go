package recommender

import "rightsize.dev/rightsize/recommender/workload"

// CriticalKeys are the workloads d marks critical (R8, R9): those the
// source names (the demo data's) and those whose spec says so. The plan
// honours both through Plan; a step that reads Data without a plan (the
// HPA backtest) takes them from here.
func (d *Data) CriticalKeys() map[workload.Key]bool {
	critical := make(map[workload.Key]bool, len(d.Critical))
	for _, k := range d.Critical {
		critical[k] = true
	}
	for k, s := range d.Specs {
		if s.Critical {
			critical[k] = true
		}
	}
	return critical
}
