package report

import (
	"errors"
	"fmt"
	"math"

	"rightsize.dev/rightsize/recommender/workload"
)

// checkPlan refuses a plan holding a number no output may print: a
// negative amount, replica or sample count, or a confidence that is not a
// number within [0, 1]. Such a number can only come from a defect upstream;
// printing it would hand a user a setting Kubernetes rejects, or worse
// accepts. Every offending field is named, with its workload and container.
func checkPlan(p workload.Plan) error {
	var errs []error
	for _, wp := range p.Workloads {
		where := wp.Key.Printable()
		if wp.Replicas < 0 {
			errs = append(errs, fmt.Errorf("%s: replicas %d is negative", where, wp.Replicas))
		}
		for _, c := range wp.Containers {
			var bad []string
			amounts := func(what string, r workload.Resources) {
				if r.CPU < 0 {
					bad = append(bad, fmt.Sprintf("%s cpu %dm", what, r.CPU))
				}
				if r.Memory < 0 {
					bad = append(bad, fmt.Sprintf("%s memory %d bytes", what, r.Memory))
				}
			}
			amounts("current request", c.Current.Requests)
			amounts("current limit", c.Current.Limits)
			if hasRecommendation(c) {
				rec := c.Recommended()
				amounts("recommended request", rec.Requests)
				amounts("recommended limit", rec.Limits)
				amounts("lower bound", c.Recommendation.LowerBound)
				amounts("upper bound", c.Recommendation.UpperBound)
			}
			if c.Samples < 0 {
				bad = append(bad, fmt.Sprintf("samples %d", c.Samples))
			}
			if v := c.Recommendation.Confidence; math.IsNaN(v) || v < 0 || v > 1 {
				bad = append(bad, fmt.Sprintf("confidence %v outside [0, 1]", v))
			}
			for _, b := range bad {
				errs = append(errs, fmt.Errorf("%s: container %s: %s", where, workload.PrintableName(c.Name), b))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("refusing to print invalid numbers: %w", err)
	}
	return nil
}
