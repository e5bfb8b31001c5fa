//go:build arm64 || s390x

package sketch

import "math"

// exp2 is math.Exp2, which has an assembly implementation here; see exp2.go
// for why the other architectures use a copy.
func exp2(x float64) float64 { return math.Exp2(x) }
