package ussd

import (
	"slices"
	"strings"
	"testing"
)

func TestDialled(t *testing.T) {
	routes := map[string]string{"*384#": "inicio", "*384*2#": "estado-tramite", "*384*2*9#": "buzon"}
	cases := []struct {
		code, flow string
		answers    []string
	}{
		{"*384#", "inicio", nil},
		{"*384*1*2#", "inicio", []string{"1", "2"}},
		{"*384*2#", "estado-tramite", nil},
		{"*384*2*1002#", "estado-tramite", []string{"1002"}},
		{"*384*2*9#", "buzon", nil},
		{"*999*4#", "", []string{"4"}},
		{"*999#", "", nil},
		{"", "", nil},
		{"hola", "", nil},
		{"*384*a#", "", nil},
		{"*384**1#", "", nil},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			flow, answers := Dialled(c.code, routes)
			if flow != c.flow || !slices.Equal(answers, c.answers) {
				t.Errorf("Dialled(%q) = %q %q, want %q %q", c.code, flow, answers, c.flow, c.answers)
			}
		})
	}
	_, answers := Dialled("*384"+strings.Repeat("*1", 20)+"#", nil)
	if len(answers) != MaxShortcut {
		t.Errorf("answers not bounded: %d", len(answers))
	}
}

func FuzzDialled(f *testing.F) {
	for _, s := range []string{"*384#", "*384*1*2#", "#", "**", "*1*" + strings.Repeat("9", 70) + "#"} {
		f.Add(s)
	}
	routes := map[string]string{"*384#": "inicio", "*384*2#": "estado-tramite"}
	f.Fuzz(func(t *testing.T, code string) {
		flow, answers := Dialled(code, routes)
		if len(answers) > MaxShortcut {
			t.Fatalf("%d answers", len(answers))
		}
		for _, a := range answers {
			if a == "" || strings.Trim(a, "0123456789") != "" || !strings.Contains(code, a) {
				t.Fatalf("answer %q from %q", a, code)
			}
		}
		if flow != "" && flow != "inicio" && flow != "estado-tramite" {
			t.Fatalf("flow %q", flow)
		}
	})
}
