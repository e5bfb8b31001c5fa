package prometheus

// The default names of kube-state-metrics' HPA series, as the tests'
// answers and queries name them.
var (
	hpaInfo         = DefaultNames().HPAInfo
	hpaMinReplicas  = DefaultNames().HPAMinReplicas
	hpaMaxReplicas  = DefaultNames().HPAMaxReplicas
	hpaTargetMetric = DefaultNames().HPATargetMetric
	hpaReplicasNow  = DefaultNames().HPACurrentReplicas
)
