package sms_test

import (
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
)

func words(w string, n int) string { return strings.TrimSpace(strings.Repeat(w+" ", n)) }

func TestFit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"fits: unchanged", "Su turno: lunes 10:00.", 1, "Su turno: lunes 10:00."},
		{"fits: white space kept", " hola \n", 1, " hola \n"},
		{"only trailing space did not fit", "hola" + strings.Repeat(" ", 200), 1, "hola"},
		{"GSM-7 text ends with three dots", words("turno", 30), 1, words("turno", 26) + "..."},
		{"cut at a word boundary", words("turnos", 25) + " x", 1, words("turnos", 22) + "..."},
		{"UCS-2 text ends with the ellipsis", words("días", 20), 1, words("días", 14) + "…"},
		{"a word longer than the budget is cut", strings.Repeat("a", 200), 1, strings.Repeat("a", 157) + "..."},
		{"concatenated budget", words("turno", 100), 2, words("turno", 50) + "..."},
		{"zero counts as one", words("turno", 30), 0, words("turno", 26) + "..."},
		{"white space only", strings.Repeat(" ", 400), 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sms.Fit(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("Fit = %q\nwant  %q", got, tt.want)
			}
			if n, _ := sms.Segments(got); n > max(tt.max, 1) {
				t.Errorf("Fit result needs %d segments", n)
			}
		})
	}
}

func TestFitWith(t *testing.T) {
	got := sms.FitWith(words("turno", 30), 1, " (sigue)")
	if want := words("turno", 25) + " (sigue)"; got != want {
		t.Errorf("FitWith = %q, want %q", got, want)
	}
	if got := sms.FitWith(words("turno", 30), 1, ""); got != words("turno", 26) {
		t.Errorf("FitWith no marker = %q", got)
	}
	// A marker that can never fit is dropped rather than overflowing.
	huge := strings.Repeat("x", 200)
	got = sms.FitWith(words("turno", 30), 1, huge)
	if n, _ := sms.Segments(got); n != 1 || strings.Contains(got, "x") {
		t.Errorf("FitWith huge marker = %q (%d segments)", got, n)
	}
	// A non-GSM marker turns the result UCS-2, and the cut accounts for it.
	got = sms.FitWith(words("turno", 30), 1, "…")
	if n, enc := sms.Segments(got); n != 1 || enc != sms.UCS2 || got != words("turno", 11)+"…" {
		t.Errorf("FitWith … = %q (%d %v)", got, n, enc)
	}
}
