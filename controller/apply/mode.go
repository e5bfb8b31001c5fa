package apply

import (
	"fmt"
	"strings"
)

// Mode is what a workload's owners allow the controller to do.
type Mode string

// The modes a workload opts into.
const (
	// ModeOff: never write (the default).
	ModeOff Mode = "off"
	// ModeAuto: resize running pods in place where the server and the
	// containers' resize policies allow, else through the pod template
	// (a rollout).
	ModeAuto Mode = "auto"
	// ModeInPlaceOnly: resize running pods in place, never roll out.
	ModeInPlaceOnly Mode = "in-place-only"
)

// Key is the annotation on a workload and the label on a namespace that
// opt in.
const Key = "rightsize.dev/apply"

// ParseMode reads a mode as written in the annotation or label.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.TrimSpace(s)); m {
	case ModeOff, ModeAuto, ModeInPlaceOnly:
		return m, nil
	}
	return ModeOff, fmt.Errorf("%s %q: want %s, %s or %s", Key, s, ModeAuto, ModeInPlaceOnly, ModeOff)
}

// ModeOf is the mode in force for a workload: its annotation wins over its
// namespace's label; without either it is off. A value that does not parse
// is off too, with the error that says so (the controller reports it, it
// does not guess).
func ModeOf(workloadAnnotations, namespaceLabels map[string]string) (m Mode, from string, err error) {
	if v, ok := workloadAnnotations[Key]; ok {
		m, err = ParseMode(v)
		return m, "workload annotation", err
	}
	if v, ok := namespaceLabels[Key]; ok {
		m, err = ParseMode(v)
		return m, "namespace label", err
	}
	return ModeOff, "default", nil
}

// Switch is the controller-wide --apply flag.
type Switch string

// The switch's positions.
const (
	// SwitchOff: decide nothing, write nothing.
	SwitchOff Switch = "off"
	// SwitchDryRun: decide, and say what would be written (Events, logs,
	// metrics), write nothing. The default.
	SwitchDryRun Switch = "dry-run"
	// SwitchOn: write what the rules allow.
	SwitchOn Switch = "on"
)

// ParseSwitch reads --apply.
func ParseSwitch(s string) (Switch, error) {
	switch sw := Switch(s); sw {
	case SwitchOff, SwitchDryRun, SwitchOn:
		return sw, nil
	}
	return SwitchOff, fmt.Errorf("--apply %q: want off, dry-run or on", s)
}
