package recommender

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestCriticalKeys(t *testing.T) {
	named := workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "orders-db"}
	bySpec := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "checkout"}
	plain := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	d := &Data{
		Critical: []workload.Key{named},
		Specs:    map[workload.Key]workload.Spec{bySpec: {Key: bySpec, Critical: true}, plain: {Key: plain}, named: {Key: named}},
	}
	assert.Equal(t, map[workload.Key]bool{named: true, bySpec: true}, d.CriticalKeys())
	assert.Empty(t, (&Data{}).CriticalKeys())
}
