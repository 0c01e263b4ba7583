package main

import "testing"

func TestUnwrap(t *testing.T) {
	for in, want := range map[string]string{
		"one line":                             "one line",
		"a sentence\nwrapped at 100 columns.":  "a sentence wrapped at 100 columns.",
		"first paragraph\n\nsecond\nparagraph": "first paragraph\n\nsecond paragraph",
		"a list:\n- one\n- two\ncontinued":     "a list:\n- one\n- two continued",
		"steps:\n1. first\n2. second":          "steps:\n1. first\n2. second",
		"code:\n  indented\n  lines":           "code:\n  indented\n  lines",
	} {
		if got := Unwrap(in); got != want {
			t.Errorf("Unwrap(%q) = %q, want %q", in, got, want)
		}
	}
}
