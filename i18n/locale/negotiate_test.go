package locale_test

import (
	"slices"
	"testing"

	"github.com/ventanilla-gob/ventanilla/i18n/locale"
)

var supported = []string{"es", "en", "qu"}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name  string
		prefs []string
		want  string
	}{
		{"no preference", nil, "es"},
		{"empty", []string{""}, "es"},
		{"bare tag", []string{"en"}, "en"},
		{"regional tag", []string{"es-EC"}, "es"},
		{"underscore", []string{"en_US"}, "en"},
		{"upper case", []string{"QU"}, "qu"},
		{"mixed case region", []string{"EN-us"}, "en"},
		{"Kichwa with region", []string{"qu-EC"}, "qu"},
		{"Chimborazo Quichua", []string{"qug"}, "qu"},
		{"Imbabura Quichua", []string{"qvi-EC"}, "qu"},
		{"Windows Quichua of Ecuador", []string{"quz-EC"}, "qu"},
		{"ISO 639-2 three letters", []string{"spa"}, "es"},
		{"name Español", []string{"Español"}, "es"},
		{"name ESPAÑOL", []string{"ESPAÑOL"}, "es"},
		{"name without accent", []string{"espanol"}, "es"},
		{"name castellano", []string{"Castellano"}, "es"},
		{"name english", []string{"english"}, "en"},
		{"name inglés", []string{"Inglés"}, "en"},
		{"name kichwa", []string{"KICHWA"}, "qu"},
		{"name quichua", []string{"Quichua"}, "qu"},
		{"name runa shimi", []string{"Runa Shimi"}, "qu"},
		{"name with extra spaces and dot", []string{"  runa   shimi. "}, "qu"},
		{"Accept-Language", []string{"fr-FR,en;q=0.8,es;q=0.5"}, "en"},
		{"Accept-Language by weight", []string{"es;q=0.5,qu;q=0.9"}, "qu"},
		{"unsupported then supported", []string{"fr", "pt-BR", "en"}, "en"},
		{"first match wins", []string{"qu", "en"}, "qu"},
		{"unsupported only", []string{"fr"}, "es"},
		{"undetermined", []string{"und"}, "es"},
		{"garbage", []string{"!!!", "12345", "x-klingon"}, "es"},
		{"not a language", []string{"hola"}, "es"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := locale.Negotiate(supported, tt.prefs...); got != tt.want {
				t.Errorf("Negotiate(%q) = %q, want %q", tt.prefs, got, tt.want)
			}
		})
	}
}

func TestNegotiateDefaultIsFirstSupported(t *testing.T) {
	if got := locale.Negotiate([]string{"en", "es"}, "fr"); got != "en" {
		t.Errorf("got %q, want the first supported locale", got)
	}
	if got := locale.Negotiate(nil, "en"); got != "es" {
		t.Errorf("nothing supported: got %q, want es", got)
	}
	if got := locale.Negotiate([]string{"es", "en"}, "kichwa"); got != "es" {
		t.Errorf("Kichwa not supported: got %q, want es", got)
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"es-EC", "en_US", "QU", "runa shimi", "es;q=0.5,qu;q=0.9", "", ",;=", "x-\xff", "Español"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pref string) {
		if got := locale.Negotiate(supported, pref); !slices.Contains(supported, got) {
			t.Fatalf("Negotiate(%q) = %q, not a supported locale", pref, got)
		}
	})
}
