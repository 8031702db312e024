package sms_test

import (
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
)

func TestTransliterate(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"only the eight letters change", "Atención: día, cómo, según. ÁÍÓÚ", "Atencion: dia, como, segun. AIOU"},
		{"letters already in GSM-7 stay", "¿Señor Pérez? ¡Pingüino! à è ì ò ù É Ñ Ü Ç", "¿Señor Pérez? ¡Pingüino! à è ì ò ù É Ñ Ü Ç"},
		{"other accents are not ours to strip", "São Tomé, naïve, ç, ø", "São Tomé, naïve, ç, ø"},
		{"kichwa", "Ñukanchik kawsay, shunku", "Ñukanchik kawsay, shunku"},
		{"emoji stay", "Listo 👍🏽 día", "Listo 👍🏽 dia"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sms.Transliterate(tt.in); got != tt.want {
				t.Errorf("Transliterate(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTransliterateKeepsUnchangedText(t *testing.T) {
	in := "Señor Pérez, su turno es el lunes."
	if allocs := testing.AllocsPerRun(100, func() { sink = sms.Transliterate(in) }); allocs != 0 {
		t.Errorf("Transliterate of text without á í ó ú allocates %.0f times", allocs)
	}
}
