// Package kubetest connects integration tests to the local test cluster
// that hack/cluster/up.sh starts (real etcd, kube-apiserver,
// controller-manager, scheduler, kwok and metrics-server), and creates the
// workloads they check.
//
// The cluster is found through $RIGHTSIZE_TEST_KUBECONFIG, else at
// hack/.cache/run/admin.kubeconfig in this repository. Tests skip under
// -short and fail, saying how to start the cluster, when it is not there.
package kubetest
