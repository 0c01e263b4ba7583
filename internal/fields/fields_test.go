package fields

import "testing"

func TestIsSubset(t *testing.T) {
	for _, tc := range []struct {
		name       string
		want, have any
		ok         bool
	}{
		{"equal maps", map[string]any{"a": "x"}, map[string]any{"a": "x"}, true},
		{"extra keys in have", map[string]any{"a": "x"}, map[string]any{"a": "x", "b": "y"}, true},
		{"missing key", map[string]any{"a": "x"}, map[string]any{"b": "x"}, false},
		{"different value", map[string]any{"a": "x"}, map[string]any{"a": "y"}, false},
		{"server defaults inside list items", []any{map[string]any{"port": int64(1)}}, []any{map[string]any{"port": int64(1), "protocol": "TCP"}}, true},
		{"extra list item", []any{"a"}, []any{"a", "b"}, false},
		{"list order matters", []any{"a", "b"}, []any{"b", "a"}, false},
		{"int64 and float64", map[string]any{"n": int64(4)}, map[string]any{"n": float64(4)}, true},
		{"bool and string", map[string]any{"b": true}, map[string]any{"b": "true"}, false},
		{"map and scalar", map[string]any{"m": map[string]any{}}, map[string]any{"m": "x"}, false},
		{"empty map in want", map[string]any{"m": map[string]any{}}, map[string]any{"m": map[string]any{"k": "v"}}, true},
	} {
		if got := IsSubset(tc.want, tc.have); got != tc.ok {
			t.Errorf("%s: IsSubset = %v, want %v", tc.name, got, tc.ok)
		}
	}
}
