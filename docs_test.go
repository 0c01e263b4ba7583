package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// markdownLink is an inline link or image: [text](target) or ![alt](target), target without
// a title.
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// inlineCode is a code span, whose text is no link.
var inlineCode = regexp.MustCompile("`[^`]*`")

// userDocs are the pages a user reads: the README and docs/.
func userDocs(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md"}, pages...)
}

// TestDocsLinksResolve: every relative link of the README and docs/ names a file that exists,
// and every anchor a heading of its page, as GitHub renders them; the README links every page
// of docs/ and stays a front page (200 lines at most).
func TestDocsLinksResolve(t *testing.T) {
	t.Parallel()
	pages := userDocs(t)
	anchors := map[string][]string{}
	for _, p := range pages {
		anchors[p] = headingAnchors(readText(t, p))
	}
	for _, p := range pages {
		for _, target := range relativeLinks(readText(t, p)) {
			if problem := checkLink(p, target, anchors); problem != "" {
				t.Errorf("%s: link %s: %s", p, target, problem)
			}
		}
	}
	readme := readText(t, "README.md")
	linked := relativeLinks(readme)
	for _, p := range pages[1:] {
		if !slices.ContainsFunc(linked, func(l string) bool { return strings.Split(l, "#")[0] == filepath.ToSlash(p) }) {
			t.Errorf("README.md does not link %s", p)
		}
	}
	if n := strings.Count(readme, "\n"); n > 200 {
		t.Errorf("README.md has %d lines; a front page keeps to 200 and links the rest", n)
	}
}

// TestCheckLink checks the link rule itself, so that TestDocsLinksResolve cannot pass by
// accepting everything.
func TestCheckLink(t *testing.T) {
	anchors := map[string][]string{"README.md": {"quick-start"}, "docs/runbook.md": {"ready", "stalled"}}
	for _, tc := range []struct {
		from, target string
		ok           bool
	}{
		{"README.md", "docs/runbook.md#ready", true},
		{"README.md", "#quick-start", true},
		{"docs/runbook.md", "#stalled", true},
		{"docs/runbook.md", "../README.md#quick-start", true},
		{"README.md", "docs/runbook.md#readiness", false},
		{"README.md", "#quickstart", false},
		{"README.md", "docs/missing.md", false},
		{"docs/runbook.md", "runbook.md#nope", false},
	} {
		if got := checkLink(tc.from, tc.target, anchors) == ""; got != tc.ok {
			t.Errorf("%s -> %s: accepted %v, want %v", tc.from, tc.target, got, tc.ok)
		}
	}
	if got := headingAnchors("# Title\n## Incident: suspend, patch\n```\n# not a heading\n```\n## Title\n"); !slices.Equal(got, []string{"title", "incident-suspend-patch", "title-1"}) {
		t.Errorf("headingAnchors: %v", got)
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// relativeLinks are the link targets of a page outside code, other than absolute URLs.
func relativeLinks(text string) []string {
	var out []string
	for _, line := range proseLines(text) {
		for _, m := range markdownLink.FindAllStringSubmatch(inlineCode.ReplaceAllString(line, ""), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			out = append(out, target)
		}
	}
	return out
}

// proseLines are the lines of a page outside fenced code blocks.
func proseLines(text string) []string {
	var out []string
	fenced := false
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out = append(out, line)
		}
	}
	return out
}

// checkLink says what is wrong with a link from page from to target, "" when nothing is.
// anchors holds the anchors of the pages read; another file only has to exist.
func checkLink(from, target string, anchors map[string][]string) string {
	file, anchor, _ := strings.Cut(target, "#")
	path := from
	if file != "" {
		path = filepath.Clean(filepath.Join(filepath.Dir(from), file))
		if _, known := anchors[path]; !known {
			if _, err := os.Stat(path); err != nil {
				return "no such file"
			}
		}
	}
	if anchor == "" {
		return ""
	}
	list, known := anchors[path]
	if !known {
		return fmt.Sprintf("an anchor into %s, which is not a page of the docs", path)
	}
	if !slices.Contains(list, anchor) {
		return fmt.Sprintf("no heading of %s has the anchor #%s", path, anchor)
	}
	return ""
}

// headingAnchors are the anchors GitHub gives a page's headings: lower case, punctuation
// dropped, spaces as hyphens, and -1, -2 ... after a repeated one.
func headingAnchors(text string) []string {
	seen := map[string]int{}
	var out []string
	for _, line := range proseLines(text) {
		trimmed := strings.TrimLeft(line, "#")
		if trimmed == line || !strings.HasPrefix(trimmed, " ") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(trimmed)) {
			switch {
			case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out = append(out, fmt.Sprintf("%s-%d", a, n))
		} else {
			out = append(out, a)
		}
		seen[a]++
	}
	return out
}
