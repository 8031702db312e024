package ussd_test

import (
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
)

func TestLatestInput(t *testing.T) {
	tests := []struct {
		name, trail, text string
		input             string
		dup               bool
	}{
		{"first hop", "", "", "", true},
		{"first answer", "", "1", "1", false},
		{"dialled shortcut arrives whole", "", "1*2", "1*2", false},
		{"first answer starting with star", "", "*5", "*5", false},
		{"second answer", "1", "1*2", "2", false},
		{"phone number answer", "1*2", "1*2*0912345678", "0912345678", false},
		{"answer containing stars", "1*2", "1*2*ab*c", "ab*c", false},
		{"answer that is a star code", "1", "1**123", "*123", false},
		{"empty answer", "1*2", "1*2*", "", false},
		{"retry of the same hop", "1*2", "1*2", "", true},
		{"operator sends only the latest answer", "1*2", "3", "3", false},
		{"trail is a prefix but not at a separator", "1", "12", "12", false},
		{"history rewritten shorter", "1*2*3", "1*2", "1*2", false},
		{"accented free text", "2", "2*Ñukanchik José", "Ñukanchik José", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input, trail, dup := ussd.LatestInput(tt.trail, tt.text)
			if input != tt.input || trail != tt.text || dup != tt.dup {
				t.Errorf("LatestInput(%q, %q) = %q, %q, %v; want %q, %q, %v",
					tt.trail, tt.text, input, trail, dup, tt.input, tt.text, tt.dup)
			}
		})
	}
}

func FuzzLatestInput(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""}, {"", "1"}, {"1", "1*2"}, {"1*2", "1*2*0912345678"}, {"1*2", "1*2*ab*c"},
		{"1*2", "1*2"}, {"1*2", "3"}, {"1", "1**123"}, {"1*2", "1*2*"}, {"á", "á*é"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, trail, text string) {
		input, newTrail, dup := ussd.LatestInput(trail, text)
		if newTrail != text {
			t.Fatalf("newTrail = %q, want text %q", newTrail, text)
		}
		if dup != (text == trail) {
			t.Fatalf("dup = %v for trail %q, text %q", dup, trail, text)
		}
		switch {
		case dup:
			if input != "" {
				t.Fatalf("duplicate hop gave input %q", input)
			}
		case trail != "" && strings.HasPrefix(text, trail+"*"):
			if want := text[len(trail)+1:]; input != want {
				t.Fatalf("input = %q, want suffix %q", input, want)
			}
		default: // empty trail, or a history that does not extend the trail
			if input != text {
				t.Fatalf("input = %q, want whole text %q", input, text)
			}
		}
	})
}
