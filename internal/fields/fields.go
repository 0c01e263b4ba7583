// Package fields compares rendered objects with live ones.
package fields

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
