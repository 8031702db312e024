package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
)

type sentTexts struct{ texts []string }

func (s *sentTexts) Notify(_ context.Context, _, _ string, text string) error {
	s.texts = append(s.texts, text)
	return nil
}

// A late result goes out as one SMS laid out like every SMS reply:
// transliterated when the options say so and within the segment cap —
// cut at a word with an ellipsis, since nobody can page through it.
func TestLateSMSIsLaidOutForSMS(t *testing.T) {
	long := "Trámite 1002: listo. Puede retirarlo en la oficina de atención ciudadana con su cédula original. " + strings.Repeat("Información adicional sobre el trámite. ", 10)
	cases := []struct {
		name string
		opts sms.Options
		enc  sms.Encoding
		max  int
	}{
		{"transliterated, one segment", sms.Options{Transliterate: true, MaxSegments: 1}, sms.GSM7, 1},
		{"accents kept, default cap", sms.Options{}, sms.UCS2, sms.DefaultMaxSegments},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var box sentTexts
			late := gateway.LateSMS{Send: &box, SMS: c.opts}
			if err := late.Notify(context.Background(), "+593991234567", "es", long); err != nil {
				t.Fatal(err)
			}
			if len(box.texts) != 1 {
				t.Fatalf("sent %d texts", len(box.texts))
			}
			got := box.texts[0]
			n, enc := sms.Segments(got)
			if n > c.max || enc != c.enc {
				t.Errorf("%d segments in %s, want at most %d in %s: %q", n, enc, c.max, c.enc, got)
			}
			if !strings.HasPrefix(got, "Tr") || !(strings.HasSuffix(got, "...") || strings.HasSuffix(got, "…")) {
				t.Errorf("not the result cut at a word: %q", got)
			}
		})
	}
	var box sentTexts
	short := "Trámite 1002: listo."
	gateway.LateSMS{Send: &box, SMS: sms.Options{Transliterate: true}}.Notify(context.Background(), "+593991234567", "es", short)
	if box.texts[0] != "Tramite 1002: listo." {
		t.Errorf("short result: %q", box.texts[0])
	}
}
