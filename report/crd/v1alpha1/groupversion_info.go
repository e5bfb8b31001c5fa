package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group, Version, Kind and Resource name the API.
const (
	Group    = "rightsize.dev"
	Version  = "v1alpha1"
	Kind     = "Recommendation"
	ListKind = "RecommendationList"
	Resource = "recommendations"
)

// GroupVersion is the API's group and version.
var GroupVersion = schema.GroupVersion{Group: Group, Version: Version}

// GroupVersionResource is the resource clients address.
var GroupVersionResource = GroupVersion.WithResource(Resource)

var (
	// SchemeBuilder registers the API's types with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds the API's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Recommendation{}, &RecommendationList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
