// Package fields compares rendered objects with live ones.
package fields

import (
	"fmt"
	"sort"
	"strings"
)

// IsSubset is whether every field of want has the same value in have. Maps may hold more keys
// in have (fields of other managers, server defaults); lists must have the same length and
// each element must be a subset (the API server adds defaults inside list items, such as a
// port's protocol). Whole numbers compare equal whatever their Go type.
func IsSubset(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			hv, ok := h[k]
			if !ok || !IsSubset(wv, hv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !IsSubset(w[i], h[i]) {
				return false
			}
		}
		return true
	case int64, int32, int, float64:
		wf, ok1 := toFloat(w)
		hf, ok2 := toFloat(have)
		return ok1 && ok2 && wf == hf
	default:
		return want == have
	}
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// Difference is one field where two objects differ: A and B are its values, nil where a side
// does not have it.
type Difference struct {
	Path string
	A, B any
}

// Diff lists the fields where a and b differ, by path (spec.pipeline.performance.buckets,
// spec.containers[0].name, spec.chain["artifacts.oci.storage"]), sorted. It compares as the
// API means, not as the bytes are written: key order does not matter, whole numbers equal
// whatever their Go type, and a zero value (false, 0, "", null, an empty map or list) is the
// same as no field, as a defaulted zero is. Lists compare element by element.
func Diff(a, b any) []Difference {
	var out []Difference
	diff("", a, b, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func diff(path string, a, b any, out *[]Difference) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if (aIsMap || IsZero(a)) && (bIsMap || IsZero(b)) && (aIsMap || bIsMap) {
		for k := range mergeKeys(am, bm) {
			diff(join(path, k), am[k], bm[k], out)
		}
		return
	}
	al, aIsList := a.([]any)
	bl, bIsList := b.([]any)
	if (aIsList || IsZero(a)) && (bIsList || IsZero(b)) && (aIsList || bIsList) {
		for i := 0; i < max(len(al), len(bl)); i++ {
			var av, bv any
			if i < len(al) {
				av = al[i]
			}
			if i < len(bl) {
				bv = bl[i]
			}
			diff(fmt.Sprintf("%s[%d]", path, i), av, bv, out)
		}
		return
	}
	if IsZero(a) && IsZero(b) || equalScalars(a, b) {
		return
	}
	*out = append(*out, Difference{Path: path, A: a, B: b})
}

// Patch is the smallest JSON merge patch (RFC 7386) that gives b's values where they differ
// from base's: fields b sets that base does not, and fields whose values differ. It never
// removes a field (b lacking what base sets is not a difference it can express), and it
// leaves out what only serialisation adds (nulls, empty maps and lists); a false or a 0 that
// base does not set is kept, since it can differ from a default (replicas: 0). Lists are
// replaced whole. It returns nil when b has nothing base does not.
func Patch(base, b any) map[string]any {
	bm, ok := b.(map[string]any)
	if !ok {
		return nil
	}
	basem, _ := base.(map[string]any)
	out := map[string]any{}
	for k, bv := range bm {
		basev, inBase := basem[k]
		switch {
		case isEmpty(bv):
		case isMap(bv) && (isMap(basev) || !inBase || basev == nil):
			if p := Patch(basev, bv); p != nil {
				out[k] = p
			}
		case !inBase || !equalValues(basev, bv):
			out[k] = WithoutEmpty(bv)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// WithoutEmpty is v without the map keys whose values are nulls or empty maps or lists
// (recursively); list elements are kept, emptied or not, since their positions matter.
func WithoutEmpty(v any) any { return without(v, isEmpty) }

// WithoutEmptyOrBlank is WithoutEmpty that drops empty strings too: what a person leaves out
// of a manifest for the schema's defaults to apply (false and 0 stay, as they can differ from
// a default).
func WithoutEmptyOrBlank(v any) any {
	return without(v, func(e any) bool { return e == "" || isEmpty(e) })
}

// without is v without the map keys whose values, once emptied themselves, are empty.
func without(v any, empty func(any) bool) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			if e = without(e, empty); !empty(e) {
				out[k] = e
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = without(e, empty)
		}
		return out
	}
	return v
}

// isEmpty is whether v is null or a map or list with nothing in it but empties.
func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range t {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	case []any:
		return len(t) == 0
	}
	return false
}

// equalValues is whether a and b are the same value, empties aside: whole numbers equal
// whatever their type, and a null or empty map or list is the same as no field.
func equalValues(a, b any) bool {
	switch bt := b.(type) {
	case map[string]any:
		at, ok := a.(map[string]any)
		if !ok {
			return isEmpty(a) && isEmpty(b)
		}
		for k := range mergeKeys(at, bt) {
			if !equalValues(at[k], bt[k]) {
				return false
			}
		}
		return true
	case []any:
		at, ok := a.([]any)
		if !ok || len(at) != len(bt) {
			return isEmpty(a) && isEmpty(b)
		}
		for i := range bt {
			if !equalValues(at[i], bt[i]) {
				return false
			}
		}
		return true
	}
	if isEmpty(a) || isEmpty(b) {
		return isEmpty(a) && isEmpty(b)
	}
	return equalScalars(a, b)
}

func mergeKeys(a, b map[string]any) map[string]bool {
	keys := make(map[string]bool, len(a)+len(b))
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// IsZero is whether v is a zero value: nil, false, 0, "", or an empty map or list.
func IsZero(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case bool:
		return !t
	case string:
		return t == ""
	case map[string]any:
		for _, e := range t {
			if !IsZero(e) {
				return false
			}
		}
		return true
	case []any:
		return len(t) == 0
	}
	f, ok := toFloat(v)
	return ok && f == 0
}

func isMap(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

func equalScalars(a, b any) bool {
	af, aok := toFloat(a)
	bf, bok := toFloat(b)
	if aok || bok {
		return aok && bok && af == bf
	}
	return a == b
}

// join appends key to path, quoting a key that holds a dot.
func join(path, key string) string {
	if strings.Contains(key, ".") {
		return path + `["` + key + `"]`
	}
	if path == "" {
		return key
	}
	return path + "." + key
}
