// Package buildinfo says which rightsize a binary is: the release, the
// commit it was built from, the Go release and platform, and the version of
// the Kubernetes client library linked in, read from the build information
// the Go toolchain records (runtime/debug.ReadBuildInfo).
package buildinfo
