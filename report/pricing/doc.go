// Package pricing prices what containers ask for and what they use.
//
// A Price is money per core-hour of CPU and per GiB-hour of memory; the
// defaults are OpenCost's list prices (0.031611 per core-hour, 0.004237 per
// GiB-hour). A Pricing adds a currency and overrides per namespace and per
// node pool, read from a YAML file by Load or Parse.
//
// Usage integrates samples over time, each weighing a duration dt its
// caller gives (the cost report's Meter: the time since the pod's previous
// sample, capped so that a gap in the data counts as nothing). Per resource
// and per sample:
//
//	requested = request × dt
//	used      = usage × dt
//	idle      = max(request − usage, 0) × dt
//
// Idle is clamped per sample: usage above the request in one pod or at one
// moment does not cancel idle requests elsewhere, so idle is never below zero
// and may exceed requested − used. A sample without a usage value adds to
// requested only; an unset request reserves nothing.
package pricing
