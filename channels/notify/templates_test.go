package notify_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/notify"
)

func TestTemplatesRender(t *testing.T) {
	tpl, err := notify.LoadTemplates("testdata/templates.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tpl.IDs(), ","); got != "aviso,cita,tramite_listo" {
		t.Errorf("IDs %s", got)
	}
	cita, _ := tpl.Get("cita")
	if got := strings.Join(cita.Params, ","); got != "fecha,hora" {
		t.Errorf("cita params %s, want fecha,hora", got)
	}
	if cita.ValidFor != 12*time.Hour {
		t.Errorf("cita valid for %v, want the file's 12h", cita.ValidFor)
	}
	if listo, _ := tpl.Get("tramite_listo"); listo.ValidFor != 0 {
		t.Errorf("tramite_listo valid for %v, want 0: the queue's default", listo.ValidFor)
	}
	for _, tc := range []struct{ locale, want, used string }{
		{"es", "Su cita es el 3 de marzo a las 09:30.", "es"},
		{"en", "Your appointment is on 3 de marzo at 09:30.", "en"},
		{"qu", "Su cita es el 3 de marzo a las 09:30.", "es"},
	} {
		text, used, err := cita.Render(tc.locale, map[string]string{"fecha": "3 de marzo", "hora": "09:30", "extra": "ignored"})
		if err != nil || text != tc.want || used != tc.used {
			t.Errorf("Render(%s) = %q, %s, %v; want %q, %s", tc.locale, text, used, err, tc.want, tc.used)
		}
	}
	// A param's value is never read as a hole.
	text, _, _ := cita.Render("es", map[string]string{"fecha": "{{hora}}", "hora": "9"})
	if text != "Su cita es el {{hora}} a las 9." {
		t.Errorf("values were expanded: %q", text)
	}
	if _, _, err := cita.Render("es", map[string]string{"fecha": "x"}); err == nil {
		t.Error("Render without hora: no error")
	}
}

func TestTemplatesProblemsSayWhere(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unclosed hole", "templates:\n  a:\n    es: \"Su trámite {{numero está listo\"\n",
			[]string{`t.yaml:3:21: templates.a.es: "{{" not closed with "}}"`}},
		{"logic in a hole", "templates:\n  a:\n    es: 'Hola {{if .x}}'\n",
			[]string{`t.yaml:3:15: templates.a.es: {{if .x}}: holes are a {{name}} of letters, digits and _, perhaps with a format ({{name | money}}); templates have no logic`}},
		{"stray closing braces", "templates:\n  a:\n    es: Hola }} mundo\n",
			[]string{`t.yaml:3:14: templates.a.es: "}}" without "{{"`}},
		{"empty hole", "templates:\n  a:\n    es: \"{{ }}\"\n",
			[]string{`t.yaml:3:10: templates.a.es: empty {{}}`}},
		{"no es", "templates:\n  a:\n    en: Hello\n",
			[]string{`t.yaml:3:5: templates.a: no es text: es is what every citizen gets when their locale is missing`}},
		{"unknown locale and key", "templates:\n  a:\n    es: Hola\n    fr: Bonjour\nversion: 2\n",
			[]string{`t.yaml:4:5: templates.a.fr: unknown key (want es, en, qu or valid_for)`, `t.yaml:5:1: version: unknown key (want templates)`}},
		{"misspelt valid_for", "templates:\n  a:\n    es: Hola\n    vaild_for: 2h\n",
			[]string{`t.yaml:4:5: templates.a.vaild_for: unknown key (did you mean valid_for?)`}},
		{"valid_for not a duration", "templates:\n  a:\n    es: Hola\n    valid_for: dos horas\n",
			[]string{`t.yaml:4:16: templates.a.valid_for: valid_for "dos horas" is not a duration like 30m or 2h`}},
		{"valid_for too short", "templates:\n  a:\n    es: Hola\n    valid_for: 10s\n",
			[]string{`t.yaml:4:16: templates.a.valid_for: valid_for 10s is outside 1m to 72h`}},
		{"holes that differ", "templates:\n  a:\n    es: \"{{numero}}\"\n    en: \"{{number}}\"\n",
			[]string{`t.yaml:3:5: templates.a.en: uses {{number}}, which es does not`, `t.yaml:3:5: templates.a.en: lacks {{numero}}, which es uses`}},
		{"duplicate template", "templates:\n  a:\n    es: Hola\n  a:\n    es: Chao\n",
			[]string{`t.yaml:4:3: templates.a: template "a" appears twice (first at 2:3)`}},
		{"bad id", "templates:\n  Trámite:\n    es: Hola\n",
			[]string{`t.yaml:2:3: templates.Trámite: template ids are lower case letters, digits, _ and -`}},
		{"not a text", "templates:\n  a:\n    es: [1, 2]\n",
			[]string{`t.yaml:3:9: templates.a.es: want a text`}},
		{"no templates", "templates: {}\n",
			[]string{`t.yaml:1:12: templates: want a mapping of template ids to their texts`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notify.ParseTemplates("t.yaml", []byte(tc.yaml))
			var ps notify.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("ParseTemplates: %v, want Problems", err)
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("problems\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestLoadTemplatesNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plantillas.yaml")
	if err := os.WriteFile(path, []byte("templates:\n  a: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.LoadTemplates(path); err == nil || err.Error() != path+":2:6: this `[` is never closed; end the list with `]`, its items separated by `,`" {
		t.Errorf("LoadTemplates of broken YAML: %v, want the path, the line and column of the `[` and what is wrong", err)
	}
	if _, err := notify.LoadTemplates(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("LoadTemplates of a missing file: no error")
	}
}

func FuzzParseTemplates(f *testing.F) {
	seed, err := os.ReadFile("testdata/templates.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("templates:\n  a:\n    es: \"{{x}} {{ y }} }} {{\"\n"))
	f.Add([]byte("templates: [1]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, err := notify.ParseTemplates("f.yaml", data)
		if err != nil {
			return
		}
		for _, id := range tpl.IDs() {
			tp, _ := tpl.Get(id)
			params := map[string]string{}
			for _, p := range tp.Params {
				params[p] = "v"
			}
			for _, loc := range notify.Locales {
				if _, _, err := tp.Render(loc, params); err != nil {
					t.Fatalf("template %s parsed but does not render in %s: %v", id, loc, err)
				}
			}
		}
	})
}

// FuzzCreate posts arbitrary bodies: the answer is always an accepted
// notification or a 4xx naming a field, never a server error.
func FuzzCreate(f *testing.F) {
	f.Add([]byte(listo))
	f.Add([]byte(`{"to": "+593991234567", "template": "cita", "params": {"fecha": "x", "hora": 1}}`))
	f.Add([]byte(`{"to": "+593991234567", "template": "aviso", "params": {"texto": "\u0000"}, "channel": "auto"}`))
	f.Add([]byte(`{"to": null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t)
		r := fx.post(t, civilToken, string(body))
		switch {
		case r.Code == http.StatusAccepted:
		case r.Code >= 400 && r.Code < 500:
			if field, _ := r.Body["field"].(string); field == "" {
				t.Fatalf("%d without a field: %v", r.Code, r.Body)
			}
		default:
			t.Fatalf("status %d: %v", r.Code, r.Body)
		}
	})
}

// Notifications format amounts and dates in the citizen's locale, as
// flows do; a value a format cannot read goes out as it was sent.
func TestTemplatesFormatValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "templates.yaml")
	src := "templates:\n  multa:\n    es: \"Multa de {{valor | money}}, pague hasta el {{vence | date}}.\"\n    en: \"Fine of {{valor | money}}, pay by {{vence | date}}.\"\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := notify.LoadTemplates(path)
	if err != nil {
		t.Fatal(err)
	}
	multa, _ := tpl.Get("multa")
	for _, tc := range []struct{ locale, valor, want string }{
		{"es", "1234.5", "Multa de USD 1.234,50, pague hasta el 12 mar 2027."},
		{"qu", "1234.5", "Multa de USD 1.234,50, pague hasta el 12 mar 2027."},
		{"en", "1234.5", "Fine of USD 1,234.50, pay by 12 Mar 2027."},
		{"es", "mil", "Multa de mil, pague hasta el 12 mar 2027."},
	} {
		text, _, err := multa.Render(tc.locale, map[string]string{"valor": tc.valor, "vence": "2027-03-12"})
		if err != nil || text != tc.want {
			t.Errorf("Render(%s, %s) = %q, %v; want %q", tc.locale, tc.valor, text, err, tc.want)
		}
	}
	if got := strings.Join(multa.Params, ","); got != "valor,vence" {
		t.Errorf("params %s, want valor,vence", got)
	}
}
