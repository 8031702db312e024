package flows

import (
	"slices"
	"testing"
)

// Each kind in the one list is whole: a body to load into, a binder for
// every field it declares, Waits saying what its body does, and events
// only where it leaves the step without stopping the flow.
func TestEveryKindIsWhole(t *testing.T) {
	var names []string
	for _, k := range kinds {
		if slices.Contains(names, k.Name) {
			t.Errorf("kind %q is listed twice", k.Name)
		}
		names = append(names, k.Name)
		if k.new == nil {
			t.Errorf("kind %q has no body", k.Name)
			continue
		}
		b := k.new()
		if _, waits := b.(waiting); waits != k.Waits {
			t.Errorf("kind %q: Waits is %v but its body waits: %v", k.Name, k.Waits, waits)
		}
		for _, f := range k.Fields {
			if f.bind == nil {
				t.Errorf("kind %q: field %q has nowhere to load", k.Name, f.Name)
				continue
			}
			if f.bind(b) == nil {
				t.Errorf("kind %q: field %q loads into nothing", k.Name, f.Name)
			}
		}
	}
}
