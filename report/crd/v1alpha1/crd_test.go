package v1alpha1

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// crdFile is the manifest make generate writes from these types.
const crdFile = "../../../deploy/controller/crd/rightsize.dev_recommendations.yaml"

// crd is the part of a CustomResourceDefinition the tests read.
type crd struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Group string `json:"group"`
		Scope string `json:"scope"`
		Names struct {
			Kind       string   `json:"kind"`
			ListKind   string   `json:"listKind"`
			Plural     string   `json:"plural"`
			Singular   string   `json:"singular"`
			ShortNames []string `json:"shortNames"`
		} `json:"names"`
		Versions []struct {
			Name         string `json:"name"`
			Served       bool   `json:"served"`
			Storage      bool   `json:"storage"`
			Subresources struct {
				Status *struct{} `json:"status"`
			} `json:"subresources"`
			Columns []struct {
				Name     string `json:"name"`
				Type     string `json:"type"`
				JSONPath string `json:"jsonPath"`
				Priority int    `json:"priority"`
			} `json:"additionalPrinterColumns"`
			Schema struct {
				OpenAPIV3Schema openAPISchema `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

type openAPISchema struct {
	Type       string                   `json:"type"`
	Properties map[string]openAPISchema `json:"properties"`
	Items      *openAPISchema           `json:"items"`
	Required   []string                 `json:"required"`
}

func readCRD(t *testing.T) crd {
	t.Helper()
	b, err := os.ReadFile(crdFile)
	require.NoError(t, err)
	var c crd
	require.NoError(t, yaml.Unmarshal(b, &c))
	return c
}

// TestCRDManifest: the committed CRD serves the types of this package as
// the controller and kubectl expect them.
func TestCRDManifest(t *testing.T) {
	c := readCRD(t)
	assert.Equal(t, "apiextensions.k8s.io/v1", c.APIVersion)
	assert.Equal(t, "CustomResourceDefinition", c.Kind)
	assert.Equal(t, Resource+"."+Group, c.Metadata.Name)
	assert.Equal(t, Group, c.Spec.Group)
	assert.Equal(t, "Namespaced", c.Spec.Scope)
	assert.Equal(t, Kind, c.Spec.Names.Kind)
	assert.Equal(t, ListKind, c.Spec.Names.ListKind)
	assert.Equal(t, Resource, c.Spec.Names.Plural)
	assert.Equal(t, "recommendation", c.Spec.Names.Singular)
	assert.Equal(t, []string{"rsrec"}, c.Spec.Names.ShortNames)
	require.Len(t, c.Spec.Versions, 1)
	v := c.Spec.Versions[0]
	assert.Equal(t, Version, v.Name)
	assert.True(t, v.Served)
	assert.True(t, v.Storage)
	assert.NotNil(t, v.Subresources.Status, "the status subresource")

	var cols []string
	for _, col := range v.Columns {
		if col.Priority == 0 {
			cols = append(cols, col.Name+" "+col.Type+" "+col.JSONPath)
		}
	}
	assert.Equal(t, []string{
		"Workload string .status.target",
		"CPU string .status.cpuChange",
		"Memory string .status.memoryChange",
		"QoS string .status.qos",
		"Confidence string .status.confidence",
		"Age date .metadata.creationTimestamp",
	}, cols)
	// Every column but Age reads a field the type has.
	root := v.Schema.OpenAPIV3Schema
	for _, col := range v.Columns {
		if strings.HasPrefix(col.JSONPath, ".metadata.") {
			continue
		}
		s := root
		for _, p := range strings.Split(strings.TrimPrefix(col.JSONPath, "."), ".") {
			var ok bool
			s, ok = s.Properties[p]
			require.True(t, ok, "column %s: %s is not in the schema", col.Name, col.JSONPath)
		}
		assert.Equal(t, "string", s.Type, col.JSONPath)
	}
}

// TestCRDSchemaMatchesTypes: every JSON field of the Go types is in the
// manifest's schema, and the schema has no field they lack, all the way
// down through this package's types; a field not marked omitempty is
// required. A type changed without make generate fails here.
func TestCRDSchemaMatchesTypes(t *testing.T) {
	root := readCRD(t).Spec.Versions[0].Schema.OpenAPIV3Schema
	for _, name := range []string{"spec", "status"} {
		require.Contains(t, root.Properties, name)
	}
	compareSchema(t, "spec", reflect.TypeFor[RecommendationSpec](), root.Properties["spec"])
	compareSchema(t, "status", reflect.TypeFor[RecommendationStatus](), root.Properties["status"])
}

func compareSchema(t *testing.T, path string, typ reflect.Type, s openAPISchema) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Kind() == reflect.Slice && typ.Elem().Kind() != reflect.Uint8 {
		require.Equal(t, "array", s.Type, path)
		require.NotNil(t, s.Items, path)
		compareSchema(t, path+"[]", typ.Elem(), *s.Items)
		return
	}
	if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[Recommendation]().PkgPath() {
		// Basic kinds, metav1's and autoscaling/v2's types: the generator's.
		want := map[reflect.Kind]string{reflect.String: "string", reflect.Bool: "boolean", reflect.Int: "integer",
			reflect.Int32: "integer", reflect.Int64: "integer", reflect.Float64: "number"}[typ.Kind()]
		if want != "" {
			assert.Equal(t, want, s.Type, path)
		}
		return
	}
	assert.Equal(t, "object", s.Type, path)
	var fields, required []string
	for f := range typ.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		require.NotEmpty(t, name, "%s.%s has no JSON name", path, f.Name)
		fields = append(fields, name)
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
		sub, ok := s.Properties[name]
		if assert.True(t, ok, "%s.%s is not in the CRD schema: run make generate", path, name) {
			compareSchema(t, path+"."+name, f.Type, sub)
		}
	}
	var props []string
	for name := range s.Properties {
		props = append(props, name)
	}
	slices.Sort(fields)
	slices.Sort(props)
	slices.Sort(required)
	assert.Equal(t, fields, props, "%s: fields in the CRD schema; run make generate", path)
	assert.Equal(t, required, sortedCopy(s.Required), "%s: required fields", path)
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestCRDIsGenerated regenerates the manifest with the Makefile's
// controller-gen and compares: only when the module cache already holds
// that controller-gen (it is never downloaded here; make generate does).
func TestCRDIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs controller-gen (skipped with -short)")
	}
	mk, err := os.ReadFile("../../../Makefile")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^CONTROLLER_GEN_VERSION \?= (\S+)$`).FindSubmatch(mk)
	require.NotNil(t, m, "the Makefile pins CONTROLLER_GEN_VERSION")
	// The module cache as the only proxy: nothing is downloaded, and what
	// is there was verified when it was.
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	require.NoError(t, err)
	run := func(args ...string) (string, error) {
		cmd := exec.Command("go", append([]string{"run", "sigs.k8s.io/controller-tools/cmd/controller-gen@" + string(m[1])}, args...)...)
		cmd.Dir = "../../.."
		cmd.Env = append(os.Environ(), "GOPROXY=file://"+filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download"), "GOSUMDB=off")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := run("--version"); err != nil {
		t.Skipf("controller-gen %s is not in the module cache: %s", m[1], strings.TrimSpace(out))
	}
	dir := t.TempDir()
	if out, err := run("paths=./report/crd/...", "crd:crdVersions=v1,allowDangerousTypes=true", "output:crd:artifacts:config="+dir); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, filepath.Base(crdFile)))
	require.NoError(t, err)
	want, err := os.ReadFile(crdFile)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(want), "the CRD manifest is stale: run make generate")
}
