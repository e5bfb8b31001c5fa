package hpaobject

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// checkKeys returns the first key of v, a JSON value decoded into any,
// that type t does not have exactly, and "" when there is none.
// encoding/json matches keys ignoring case and drops unknown ones; the API
// server matches them exactly and refuses (or warns of) unknown ones. A
// typo (minReplica) or a second spelling (MaxReplicas beside maxReplicas)
// must not be read differently here than in the cluster. Mismatched types
// are left for json.Unmarshal to report; a type that decodes itself
// (Quantity, Time, RawMessage) is a leaf.
func checkKeys(v any, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return ""
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		fields := fieldsOf(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				return fmt.Sprintf("%s: unknown field %s", orObject(path), quote(k))
			}
			if p := checkKeys(m[k], ft, dot(path, k)); p != "" {
				return p
			}
		}
	case reflect.Slice, reflect.Array:
		a, ok := v.([]any)
		if !ok {
			return ""
		}
		for i, e := range a {
			if p := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p := checkKeys(m[k], t.Elem(), path+"["+quote(k)+"]"); p != "" {
				return p
			}
		}
	}
	return ""
}

func dot(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// fields caches fieldsOf's answers by type.
var fields sync.Map

// fieldsOf maps the JSON names of a struct's fields to their types,
// embedded structs' fields included as encoding/json promotes them.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if f, ok := fields.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fieldsOf(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = ft
	}
	fields.Store(t, out)
	return out
}

// typeOf is the type v points to.
func typeOf(v any) reflect.Type { return reflect.TypeOf(v).Elem() }

func asTypeError(err error, te **json.UnmarshalTypeError) bool { return errors.As(err, te) }

// kindName words what a Go type wants in JSON.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("an integer (%s)", t.Kind())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another type"
}
