package i18n_test

import (
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

func overrides(t *testing.T, yaml string) *i18n.Overrides {
	t.Helper()
	o, ps := i18n.ParseOverrides("registro/messages.yaml", []byte(yaml))
	if ps.HasErrors() || o == nil {
		t.Fatalf("ParseOverrides: %v", ps)
	}
	return o
}

// An institution's texts replace the catalogue's for the ids and locales
// it gives; everything else is the catalogue's, falling back to Spanish
// as the catalogue does. The catalogue itself is left as it was.
func TestOverridesLaidOverTheCatalogue(t *testing.T) {
	base := load(t)
	o := overrides(t, `
messages:
  call.error:
    es: "El Registro Civil no pudo atenderle."
    qu: "Registro Civil mana atendinchu."
  validate.range.max: {en: "Up to {{Max}}, please."}
  nav.back: {es: Volver}
`)
	c := base.With(o)
	for _, tc := range []struct{ loc, id, want string }{
		{"es", i18n.CallError, "El Registro Civil no pudo atenderle."},
		{"qu", i18n.CallError, "Registro Civil mana atendinchu."},
		{"en", i18n.CallError, base.Text("en", i18n.CallError)},
		{"es", i18n.NavBack, "Volver"},
		{"en", i18n.NavBack, "Back"},
		{"es", i18n.CallTimeout, base.Text("es", i18n.CallTimeout)},
		{"fr", i18n.CallError, "El Registro Civil no pudo atenderle."},
	} {
		if got := c.Text(tc.loc, tc.id); got != tc.want {
			t.Errorf("Text(%s, %s) = %q, want %q", tc.loc, tc.id, got, tc.want)
		}
	}
	// A variant overridden on its own is picked as the catalogue's are.
	if got, want := c.Format("en", i18n.ValidateRange, map[string]any{"Max": int64(9)}), "Up to 9, please."; got != want {
		t.Errorf("variant: %q, want %q", got, want)
	}
	if got, want := c.Format("en", i18n.ValidateRange, map[string]any{"Min": int64(1), "Max": int64(9)}), base.Format("en", i18n.ValidateRange, map[string]any{"Min": int64(1), "Max": int64(9)}); got != want {
		t.Errorf("the catalogue's text with both bounds: %q, want %q", got, want)
	}
	if base.Text("es", i18n.CallError) == c.Text("es", i18n.CallError) || base.Text("es", i18n.NavBack) != "Atrás" {
		t.Error("With changed the catalogue it was called on")
	}
	if base.With(nil) != base || base.With(overrides(t, "# nothing yet\n")) != base {
		t.Error("empty overrides should give the catalogue itself")
	}
}

// Text stays free of allocations on a catalogue with overrides.
func TestOverriddenTextDoesNotAllocate(t *testing.T) {
	c := load(t).With(overrides(t, "messages:\n  call.error: {es: Falla.}\n"))
	if n := testing.AllocsPerRun(100, func() { _ = c.Text("es", i18n.CallError); _ = c.Text("en", i18n.NavBack) }); n != 0 {
		t.Errorf("Text allocates %v times", n)
	}
}

// Every mistake in an overrides file is an error where it is written,
// with the name meant; a text past the screen budget is a warning.
func TestOverridesProblems(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown id", "messages:\n  call.eror: {es: Falla.}\n",
			`registro/messages.yaml:2:3: messages.call.eror: error: "call.eror" is not a system message (did you mean "call.error"?); the ids are listed in docs/institutions.md [unknown-message]`},
		{"unknown locale", "messages:\n  call.error:\n    es: Falla.\n    eng: Failure.\n",
			`registro/messages.yaml:4:5: messages.call.error.eng: error: unknown locale "eng" (did you mean "en"?); the locales are es, en, qu [unknown-locale]`},
		{"a regional locale", "messages:\n  call.error: {qu-EC: Pantay.}\n",
			`registro/messages.yaml:2:16: messages.call.error.qu-EC: error: unknown locale "qu-EC" (did you mean "qu"?); the locales are es, en, qu [unknown-locale]`},
		{"a hole never filled", "messages:\n  resume.prompt: {es: \"Pendiente: {{Flw}}.\"}\n",
			`registro/messages.yaml:2:35: messages.resume.prompt.es: error: {{Flw}}: this message is given Flow (did you mean {{Flow}}?) [bad-hole]`},
		{"a hole in a message without values", "messages:\n  nav.home:\n    es: Inicio {{x}}\n",
			`registro/messages.yaml:3:16: messages.nav.home.es: error: {{x}}: this message is given no values; write it without holes [bad-hole]`},
		{"a broken hole", "messages:\n  validate.range:\n    es: 'Entre {{Min y {{Max}}'\n",
			`registro/messages.yaml:3:16: messages.validate.range.es: error: {{Min y {{Max}}: holes are`},
		{"unknown top key", "mesages:\n  call.error: {es: Falla.}\n",
			`registro/messages.yaml:1:1: mesages: error: unknown field "mesages" (did you mean "messages"?) [unknown-field]`},
		{"not a text", "messages:\n  call.error: {es: [a, b]}\n",
			`registro/messages.yaml:2:20: messages.call.error.es: error: expected a text, found a list [wrong-type]`},
		{"empty text", "messages:\n  call.error: {es: ''}\n",
			`registro/messages.yaml:2:20: messages.call.error.es: error: empty text: leave the locale out to keep the catalogue's [empty-text]`},
		{"language name", "messages:\n  language.name: {es: Castellano}\n",
			`registro/messages.yaml:2:3: messages.language.name: error: language.name cannot be overridden`},
		{"twice", "messages:\n  call.error: {es: A}\n  call.error: {es: B}\n",
			`registro/messages.yaml:3:3: messages.call.error: error: message "call.error" is overridden twice (first at 2:3) [duplicate-id]`},
		{"syntax", "messages:\n  call.error: {es: 'A}\n",
			`registro/messages.yaml:`},
		{"long text", "messages:\n  call.error: {es: " + strings.Repeat("a", 121) + "}\n",
			`registro/messages.yaml:2:20: messages.call.error.es: warning: 121 characters, over the 120`},
		{"long with its values", "messages:\n  resume.prompt: {en: \"" + strings.Repeat("a", 100) + " {{Flow}}\"}\n",
			`registro/messages.yaml:2:23: messages.resume.prompt.en: warning: 132 characters, over the 120`},
		{"a label of two words", "messages:\n  nav.more: {es: Ver más}\n",
			`registro/messages.yaml:2:18: messages.nav.more.es: warning: "Ver más": a navigation label is one word of at most 12 characters`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, ps := i18n.ParseOverrides("registro/messages.yaml", []byte(tc.yaml))
			var all []string
			for _, p := range ps {
				all = append(all, p.String())
			}
			got := strings.Join(all, "\n")
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if ps.HasErrors() != (o == nil) {
				t.Errorf("errors %v but overrides %v", ps.HasErrors(), o)
			}
			if strings.Contains(tc.want, "warning:") && ps.HasErrors() {
				t.Errorf("a warning stopped the file: %v", ps)
			}
		})
	}
}

// Escaped braces read as braces, as in the catalogue's files.
func TestOverridesEscapedBraces(t *testing.T) {
	c := load(t).With(overrides(t, `messages: {call.error: {es: 'Error \{{x\}}.'}}`))
	if got, want := c.Text("es", i18n.CallError), "Error {{x}}."; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func FuzzParseOverrides(f *testing.F) {
	f.Add([]byte("messages:\n  call.error: {es: Falla, en: 'Failure {{x}}'}\n"))
	f.Add([]byte("messages: {validate.range: {qu: '{{Min}}-{{Max}}'}}"))
	f.Add([]byte("- a\n"))
	base := load(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		o, ps := i18n.ParseOverrides("m.yaml", data)
		if o == nil && !ps.HasErrors() {
			t.Fatal("no overrides and no error")
		}
		c := base.With(o)
		for _, loc := range c.Locales() {
			for _, id := range i18n.AllIDs {
				_ = c.Format(loc, id, map[string]any{"Min": 1, "Max": 2, "Flow": "f", "Code": "1"})
			}
		}
	})
}
