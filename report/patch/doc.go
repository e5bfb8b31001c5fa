// Package patch turns a plan into files a GitOps repository can take: one
// strategic-merge patch per workload whose resources change, one per
// HorizontalPodAutoscaler whose recommendation differs from it, one
// autoscaling/v2 manifest per recommended HPA that does not exist yet, and a
// kustomization.yaml that lists them (patches under patches:, new HPAs under
// resources:).
//
// Each patch names the workload (apiVersion, kind, metadata.name and
// metadata.namespace) and carries only the resources of the containers that
// change, under the pod template (spec.template.spec, or
// spec.jobTemplate.spec.template.spec for a CronJob), in containers or
// initContainers. Within a container only the requests and limits that change
// appear; a limit the plan removes is written as null, which is how a
// strategic merge deletes a field. Containers merge by name, so everything
// else in the manifest stays as it is.
//
// An HPA patch (<namespace>-horizontalpodautoscaler-<name>.yaml) names the
// existing HPA and carries the fields that change: minReplicas,
// maxReplicas, metrics and each direction's behavior rules, written whole.
// autoscaling/v2 gives spec.metrics and the policies no patch merge key, so
// a strategic merge replaces those lists; rules the recommendation leaves
// to Kubernetes' defaults are written as null. The plan keeps a custom
// metric's name and target but not its source type (Pods, Object,
// External): when the metrics of an HPA that has such a metric change,
// they are left out of the patch and Write says so in skipped. A new HPA
// is named after its workload unless the recommendation names it, and is
// not written when an HPA of the plan already has that name. Its header
// says to drop spec.replicas from the workload's manifest, with care. As
// for a workload, kustomize wants the HPA a patch applies to among the
// manifests under resources:, and a new HPA's manifest is added to the
// resources: of an existing kustomization the way patches are added to
// its patches:.
//
// The files are valid input for both
//
//	kustomize build DIR            (or kubectl apply -k DIR)
//	kubectl patch KIND NAME -n NS --type strategic --patch-file FILE
//
// A new kustomization.yaml has no resources of its own: add the manifests
// the patches apply to under resources: (for example "- ../base"). An
// existing one keeps everything it holds, comments and field order
// included: Write adds the patch files it does not list yet to the end of
// its patches: (a file listed already, under patches: or
// patchesStrategicMerge:, is not added again). It refuses a file of more
// than one YAML document, or one where adding to patches: would change
// another field (a YAML merge key or an anchor shared with patches:).
// Kustomize matches a patch on its namespace too, so the
// manifests must carry metadata.namespace by the time they reach this
// kustomization (in the file, or from a base's namespace: field); a
// namespace: field in this kustomization is applied after the patches and
// does not help.
//
// Bare Pods are not patched: a pod's resources cannot be changed by applying
// its manifest again, so Write reports them as skipped for the caller to say
// so. A Job's pod template is immutable once created; its patch takes effect
// when the Job is recreated. A CronJob's patch applies from its next run.
//
// Names come from outside data and end up in YAML comments, file names and
// kustomization.yaml, so a workload is only rendered when its namespace is
// a DNS-1123 label, its name a DNS-1123 subdomain, its kind one rightsize
// knows and each changed container's name a DNS-1123 label, as Kubernetes
// requires; Write lists any other as skipped, its key quoted with control
// characters escaped.
//
// Write does not remove patch files or entries of earlier runs: a workload
// that no longer changes keeps the patch that brought it to its current
// settings. Delete both to drop it. Write writes all files or none: a
// failure part-way leaves the directory as it was.
package patch
