package i18n_test

import (
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
)

// System messages are written in the template language of flows and
// notifications: holes, no conditions. A bound a validator lacks picks the
// message's variant instead of a branch in the text.
func TestSystemMessagesHaveHolesAndNoLogic(t *testing.T) {
	c := load(t)
	for _, loc := range c.Locales() {
		for _, id := range i18n.AllIDs {
			if _, err := tmpl.Parse(c.Text(loc, id), tmpl.Options{}); err != nil {
				t.Errorf("%s %s: %v", loc, id, err)
			}
		}
	}
	for _, tc := range []struct {
		loc, id string
		data    map[string]any
		want    string
	}{
		{"es", i18n.ValidateRange, map[string]any{"Max": int64(9)}, "Escriba un número hasta 9."},
		{"es", i18n.ValidateRange, map[string]any{"Min": int64(18)}, "Escriba un número desde 18."},
		{"en", i18n.ValidateLength, map[string]any{"Min": int64(1), "Max": int64(8)}, "Enter 1 to 8 characters."},
		{"qu", i18n.ValidateLength, map[string]any{"Max": int64(8)}, "8-kama killkakunata killkapay."},
		{"es", i18n.ResumePrompt, map[string]any{"Flow": "Turnos"}, "Tiene un trámite sin terminar: Turnos."},
	} {
		if got := c.Format(tc.loc, tc.id, tc.data); got != tc.want {
			t.Errorf("Format(%s, %s, %v) = %q, want %q", tc.loc, tc.id, tc.data, got, tc.want)
		}
	}
}

// Message files written for go-i18n ({{.Flow}}) keep working; the braces
// themselves are written \{{ and \}}.
func TestMessageFilesInGoI18nSyntax(t *testing.T) {
	dir := t.TempDir()
	c := load(t, write(t, dir, "inst.es.toml", `
"resume.prompt" = "Pendiente: {{.Flow}}."
"inst.braces" = "Escriba \\{{ y \\}} tal cual."
`))
	if got, want := c.Format("es", i18n.ResumePrompt, map[string]any{"Flow": "Registro"}), "Pendiente: Registro."; got != want {
		t.Errorf("go-i18n hole: %q, want %q", got, want)
	}
	if got, want := c.Format("es", "inst.braces", nil), "Escriba {{ y }} tal cual."; got != want {
		t.Errorf("escaped braces: %q, want %q", got, want)
	}
}

// A hole the gateway never fills would fall back to Spanish without a
// word: it stops the load, with the value meant.
func TestUnknownHoleStopsTheLoad(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ file, content, want string }{
		{"a.en.toml", `"resume.prompt" = "Unfinished: {{Flw}}."`, `message "resume.prompt": {{Flw}}: this message is given Flow (did you mean {{Flow}}?)`},
		{"b.en.toml", `"nav.back" = "Back {{x}}"`, `message "nav.back": {{x}}: this message is given no values; write it without holes`},
		{"c.en.toml", `"validate.range" = "{{if .Min}}x{{end}}"`, `message "validate.range": {{if .Min}}: holes are a {{name}}`},
	} {
		_, err := i18n.Load(write(t, dir, tc.file, tc.content))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s: %v, want %q", tc.file, err, tc.want)
		}
	}
}

// Messages format numbers, amounts and dates as flows do, in the locale
// asked for; a value a format cannot read is shown as it is.
func TestMessagesFormatValues(t *testing.T) {
	dir := t.TempDir()
	c := load(t,
		write(t, dir, "inst.es.toml", `"inst.fine" = "Multa de {{.Amount | money}} hasta el {{.Due | date}} ({{.Points | number}} puntos)."`),
		write(t, dir, "inst.en.toml", `"inst.fine" = "Fine of {{.Amount | money}} due {{.Due | date}} ({{.Points | number}} points)."`))
	data := map[string]any{"Amount": 1234.5, "Due": "2027-03-12", "Points": int64(1500)}
	for _, tc := range []struct{ loc, want string }{
		{"es", "Multa de USD 1.234,50 hasta el 12 mar 2027 (1.500 puntos)."},
		{"qu", "Multa de USD 1.234,50 hasta el 12 mar 2027 (1.500 puntos)."},
		{"en", "Fine of USD 1,234.50 due 12 Mar 2027 (1,500 points)."},
	} {
		if got := c.Format(tc.loc, "inst.fine", data); got != tc.want {
			t.Errorf("Format(%s) = %q, want %q", tc.loc, got, tc.want)
		}
	}
	data["Due"] = "pronto"
	if got, want := c.Format("es", "inst.fine", data), "Multa de USD 1.234,50 hasta el pronto (1.500 puntos)."; got != want {
		t.Errorf("a date that is not one: %q, want %q", got, want)
	}
}
