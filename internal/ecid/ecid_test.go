package ecid_test

import (
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/ecid"
)

func TestCedula(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"1714307103", true},
		{"1714307104", false}, // check digit
		{"0926687856", true},
		{"2514307103", false}, // province 25
		{"3014307106", true},  // registered abroad
		{"1774307103", false}, // third digit 7
	} {
		if got := ecid.Cedula(tt.in); got != tt.want {
			t.Errorf("Cedula(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if got := ecid.Cedula([]byte(tt.in)); got != tt.want {
			t.Errorf("Cedula([]byte(%q)) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
