package fields

import (
	"fmt"
	"testing"
)

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

func TestDiff(t *testing.T) {
	m := func(kv ...any) map[string]any {
		out := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		a, b  any
		paths []string
	}{
		{"equal", m("a", "x"), m("a", "x"), nil},
		{"zero value and no field", m("a", false, "b", m()), m(), nil},
		{"null and no field", m("a", nil), m(), nil},
		{"whole numbers", m("n", int64(4)), m("n", float64(4)), nil},
		{"changed value", m("a", m("b", "x")), m("a", m("b", "y")), []string{"a.b"}},
		{"only on one side", m("a", "x"), m("b", "y"), []string{"a", "b"}},
		{"false against true", m("a", false), m("a", true), []string{"a"}},
		{"list elements", m("l", []any{"x", "y"}), m("l", []any{"x"}), []string{"l[1]"}},
		{"dotted keys quoted", m("c", m("a.b", "x")), m("c", m("a.b", "y")), []string{`c["a.b"]`}},
		{"number and string", m("n", int64(1)), m("n", "1"), []string{"n"}},
	} {
		var got []string
		for _, d := range Diff(tc.a, tc.b) {
			got = append(got, d.Path)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.paths) {
			t.Errorf("%s: Diff paths = %v, want %v", tc.name, got, tc.paths)
		}
	}
}

func TestPatch(t *testing.T) {
	base := map[string]any{"pruner": map[string]any{"disabled": true}, "result": map[string]any{"is_external_db": false, "disabled": false}, "list": []any{"a"}}
	live := map[string]any{
		"pruner":  map[string]any{"disabled": false, "keep": int64(3)},
		"result":  map[string]any{"disabled": false},
		"chain":   map[string]any{"x": "y", "metadata": map[string]any{}},
		"list":    []any{"a", "b"},
		"nothing": map[string]any{"selector": nil, "status": map[string]any{}},
		"events":  map[string]any{"replicas": int64(0)},
	}
	want := map[string]any{"pruner": map[string]any{"disabled": false, "keep": int64(3)}, "chain": map[string]any{"x": "y"},
		"list": []any{"a", "b"}, "events": map[string]any{"replicas": int64(0)}}
	if got := Patch(base, live); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Patch = %v, want %v", got, want)
	}
	if got := Patch(live, live); got != nil {
		t.Errorf("Patch of equal objects = %v, want nil", got)
	}
}
