package parent

import (
	"maps"
	"strings"
	"testing"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/event"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// TestOwnStatusWritesWakeNoPass: an update of the parent that changes only its status (the
// operator's own write) is dropped; any change a person or ArgoCD makes passes.
func TestOwnStatusWritesWakeNoPass(t *testing.T) {
	now := metav1.Now()
	for name, tc := range map[string]struct {
		change func(*psv1alpha1.PipelineService)
		wakes  bool
	}{
		"status only":        {func(ps *psv1alpha1.PipelineService) { ps.Status.ObservedGeneration = 7; ps.ResourceVersion = "2" }, false},
		"spec (generation)":  {func(ps *psv1alpha1.PipelineService) { ps.Generation++ }, true},
		"an annotation":      {func(ps *psv1alpha1.PipelineService) { ps.Annotations = map[string]string{"poke": "1"} }, true},
		"a label":            {func(ps *psv1alpha1.PipelineService) { ps.Labels = map[string]string{"team": "a"} }, true},
		"the finalizers":     {func(ps *psv1alpha1.PipelineService) { ps.Finalizers = nil }, true},
		"deletion requested": {func(ps *psv1alpha1.PipelineService) { ps.DeletionTimestamp = &now }, true},
	} {
		t.Run(name, func(t *testing.T) {
			old := &psv1alpha1.PipelineService{}
			old.Name, old.Generation, old.ResourceVersion, old.Finalizers = psv1alpha1.Name, 1, "1", []string{finalizer}
			updated := old.DeepCopy()
			tc.change(updated)
			if got := notStatusOnly.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: updated}); got != tc.wakes {
				t.Errorf("wakes a pass: %v, want %v", got, tc.wakes)
			}
		})
	}
}

// TestRenderMemo: a pass renders again only when the spec (UID, generation), the status
// inputs the kind names or the served kinds changed since the last render; otherwise it
// reuses the last one, error included.
func TestRenderMemo(t *testing.T) {
	ps := &psv1alpha1.PipelineService{}
	ps.UID, ps.Generation = "a", 1
	served := children.Served{children.GVKTektonConfig: true}
	var m renderMemo
	renders, inputs := 0, ""
	render := func() ([]*unstructured.Unstructured, error) { renders++; return nil, nil }
	for _, step := range []struct {
		name    string
		change  func()
		renders int
	}{
		{"first pass", func() {}, 1},
		{"nothing changed", func() {}, 1},
		{"a status write (resourceVersion)", func() { ps.ResourceVersion = "9" }, 1},
		{"served kinds, equal but another map", func() { served = maps.Clone(served) }, 1},
		{"spec (generation)", func() { ps.Generation++ }, 2},
		{"a CRD arrives", func() { served = children.Served{children.GVKTektonConfig: true, children.GVKRoute: true} }, 3},
		{"recreated (UID)", func() { ps.UID = "b" }, 4},
		{"a status input (a recorded build)", func() { inputs = "csv.v1/3" }, 5},
		{"the same status input", func() {}, 5},
	} {
		step.change()
		if _, err := m.render(ps, inputs, served, render); err != nil {
			t.Fatal(err)
		}
		if renders != step.renders {
			t.Errorf("%s: %d renders, want %d", step.name, renders, step.renders)
		}
	}
}

// TestNoteFitsTheEventAPI: a message longer than an Event's note may be is cut to fit, at a
// rune boundary, and says so; a shorter one is kept whole.
func TestNoteFitsTheEventAPI(t *testing.T) {
	if got := note("short"); got != "short" {
		t.Errorf("note(short) = %q", got)
	}
	long := strings.Repeat("é", noteLimit)
	got := note(long)
	if len(got) > noteLimit || !utf8.ValidString(got) || !strings.HasSuffix(got, "(the condition has the whole message)") {
		t.Errorf("note of %d bytes = %d bytes, valid UTF-8 %v: %q", len(long), len(got), utf8.ValidString(got), got[len(got)-60:])
	}
}
