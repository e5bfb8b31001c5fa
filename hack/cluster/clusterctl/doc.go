// Command clusterctl holds the steps of hack/cluster/up.sh that are easier
// to get right in Go than in shell: the PKI of the local test cluster,
// health probes, and the objects that make kwok and metrics-server usable
// (fake nodes, the metrics.k8s.io APIService). It needs nothing but Go, so
// a fresh CI machine needs neither openssl nor curl nor kubectl.
//
//	clusterctl pki -dir DIR
//	clusterctl probe -url URL [-ca FILE] [-token T] [-insecure]
//	clusterctl bootstrap -kubeconfig FILE -ca FILE -metrics-port PORT -nodes N
package main
