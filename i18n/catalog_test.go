package i18n_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

// Screen budget (i18n.MaxMessageLen, i18n.MaxNavLen): a USSD screen holds
// 182 characters, and a message must leave room for the options under it.
const (
	maxMessageLen = i18n.MaxMessageLen
	maxNavLen     = i18n.MaxNavLen
)

// worstCase is template data as long as the validators will plausibly pass.
// worstCase fills every template field with its longest plausible value.
var worstCase = map[string]any{"Min": 1000000000, "Max": 9999999999, "Flow": "Consulta de trámites pendientes", "Code": "999999"}

func load(t testing.TB, extra ...string) *i18n.Catalog {
	t.Helper()
	c, err := i18n.Load(extra...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestLocales(t *testing.T) {
	c := load(t)
	if got, want := c.Locales(), []string{"es", "en", "qu"}; !slices.Equal(got, want) {
		t.Fatalf("Locales() = %q, want %q", got, want)
	}
	c.Locales()[0] = "fr"
	if c.Locales()[0] != "es" {
		t.Error("changing the slice Locales returned changed the catalogue")
	}
	for loc, want := range map[string]bool{"es": true, "en": true, "qu": true, "fr": false, "es-EC": false, "QU": false, "": false} {
		if got := c.Supported(loc); got != want {
			t.Errorf("Supported(%q) = %v, want %v", loc, got, want)
		}
	}
}

func TestEveryIDHasATextInEveryLocale(t *testing.T) {
	c := load(t)
	for _, loc := range c.Locales() {
		for _, id := range i18n.AllIDs {
			if !c.Has(loc, id) {
				t.Errorf("%s: no text for %s", loc, id)
			}
		}
	}
}

// Constants cannot be reflected over, so read ids.go and check that AllIDs
// lists every constant declared there, once.
func TestAllIDsListsEveryConstant(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "ids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			for _, v := range s.(*ast.ValueSpec).Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("ids.go: constant %v is not a string literal", v)
				}
				id, _ := strconv.Unquote(lit.Value)
				declared = append(declared, id)
			}
		}
	}
	if !slices.Equal(sorted(declared), sorted(i18n.AllIDs)) {
		t.Errorf("AllIDs differs from the constants of ids.go:\nAllIDs:   %q\nconstants: %q", sorted(i18n.AllIDs), sorted(declared))
	}
	if len(slices.Compact(sorted(i18n.AllIDs))) != len(i18n.AllIDs) {
		t.Error("AllIDs lists an id twice")
	}
}

// A typo in a message file's id would leave the real id without a text in
// that locale and the typo unused: the files may only use known ids.
func TestMessageFilesUseOnlyKnownIDs(t *testing.T) {
	files, err := filepath.Glob("locales/active.*.toml")
	if err != nil || len(files) != 3 {
		t.Fatalf("locale files: %v %v", files, err)
	}
	for _, name := range files {
		var raw map[string]any
		if _, err := toml.DecodeFile(name, &raw); err != nil {
			t.Fatal(err)
		}
		for id := range raw {
			if !slices.Contains(i18n.AllIDs, id) {
				t.Errorf("%s: unknown id %q (not in ids.go)", name, id)
			}
		}
	}
}

func TestMessagesFitTheScreen(t *testing.T) {
	c := load(t)
	for _, loc := range c.Locales() {
		for _, id := range i18n.AllIDs {
			msg := c.Format(loc, id, worstCase)
			if n := utf8.RuneCountInString(msg); n > maxMessageLen {
				t.Errorf("%s %s: %d characters, at most %d: %q", loc, id, n, maxMessageLen, msg)
			}
		}
		for _, id := range []string{i18n.NavBack, i18n.NavHome, i18n.NavMore} {
			msg := c.Text(loc, id)
			if n := utf8.RuneCountInString(msg); n > maxNavLen || strings.ContainsAny(msg, " \t\n") {
				t.Errorf("%s %s: %q must be one word of at most %d characters", loc, id, msg, maxNavLen)
			}
		}
	}
}

func TestTexts(t *testing.T) {
	c := load(t)
	tests := []struct{ locale, id, want string }{
		{"es", i18n.NavBack, "Atrás"},
		{"es", i18n.NavHome, "Inicio"},
		{"es", i18n.NavMore, "Más"},
		{"en", i18n.NavBack, "Back"},
		{"en", i18n.NavHome, "Home"},
		{"en", i18n.NavMore, "More"},
		{"qu", i18n.NavBack, "Washaman"},
		{"qu", i18n.NavHome, "Kallari"},
		{"qu", i18n.NavMore, "Ashtawan"},
		{"es", i18n.SessionExpired, "Su sesión ha caducado. Marque de nuevo."},
		{"es", i18n.LanguageName, "Español"},
		{"en", i18n.LanguageName, "English"},
		{"qu", i18n.LanguageName, "Runa shimi"},
	}
	for _, tt := range tests {
		t.Run(tt.locale+"/"+tt.id, func(t *testing.T) {
			if got := c.Text(tt.locale, tt.id); got != tt.want {
				t.Errorf("Text = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatRendersTemplates(t *testing.T) {
	c := load(t)
	data := map[string]any{"Min": 1, "Max": 5}
	tests := []struct{ locale, id, want string }{
		{"es", i18n.ValidateRange, "Escriba un número entre 1 y 5."},
		{"en", i18n.ValidateRange, "Enter a number from 1 to 5."},
		{"qu", i18n.ValidateRange, "1-manta 5-kama yupayta killkapay."},
		{"es", i18n.ValidateLength, "Escriba entre 1 y 5 caracteres."},
		{"en", i18n.ValidateLength, "Enter 1 to 5 characters."},
		{"qu", i18n.ValidateLength, "1-manta 5-kama killkakunata killkapay."},
		// Messages without template actions ignore data.
		{"en", i18n.InvalidOption, "Invalid option."},
	}
	for _, tt := range tests {
		t.Run(tt.locale+"/"+tt.id, func(t *testing.T) {
			if got := c.Format(tt.locale, tt.id, data); got != tt.want {
				t.Errorf("Format = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNoMessageLeaksTemplateSyntax(t *testing.T) {
	c := load(t)
	for _, loc := range c.Locales() {
		for _, id := range i18n.AllIDs {
			if msg := c.Format(loc, id, worstCase); strings.Contains(msg, "{{") || strings.Contains(msg, "<no value>") {
				t.Errorf("%s %s: %q", loc, id, msg)
			}
		}
	}
}

func TestTextOfAStaticMessageIsFormatWithoutData(t *testing.T) {
	c := load(t)
	for _, loc := range c.Locales() {
		for _, id := range i18n.AllIDs {
			text := c.Text(loc, id)
			if strings.Contains(text, "{{") {
				continue // needs data: Text returns the template
			}
			if f := c.Format(loc, id, nil); f != text {
				t.Errorf("%s %s: Text %q, Format %q", loc, id, text, f)
			}
		}
	}
}

func TestFallback(t *testing.T) {
	dir := t.TempDir()
	onlyES := write(t, dir, "inst.es.toml", `
"inst.welcome" = "Bienvenido al Registro Civil."
"inst.turn" = "Su turno es el {{.N}}."
`)
	c := load(t, onlyES)
	tests := []struct {
		name, locale, id, want string
	}{
		{"own text", "en", i18n.Goodbye, "Thank you for using Ventanilla."},
		{"missing in locale falls back to es", "qu", "inst.welcome", "Bienvenido al Registro Civil."},
		{"unsupported locale falls back to es", "fr", i18n.Goodbye, "Gracias por usar Ventanilla."},
		{"empty locale falls back to es", "", i18n.NavBack, "Atrás"},
		{"locale is matched exactly", "en-US", i18n.NavBack, "Atrás"},
		{"unknown id falls back to the id", "en", "no.such.id", "no.such.id"},
		{"empty id", "es", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Text(tt.locale, tt.id); got != tt.want {
				t.Errorf("Text(%q, %q) = %q, want %q", tt.locale, tt.id, got, tt.want)
			}
			if got := c.Format(tt.locale, tt.id, nil); got != tt.want {
				t.Errorf("Format(%q, %q) = %q, want %q", tt.locale, tt.id, got, tt.want)
			}
		})
	}
	t.Run("Format falls back to es with data", func(t *testing.T) {
		if got, want := c.Format("qu", "inst.turn", map[string]any{"N": 7}), "Su turno es el 7."; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("nil catalogue", func(t *testing.T) {
		var nc *i18n.Catalog
		if nc.Text("es", i18n.NavBack) != i18n.NavBack || nc.Format("es", i18n.NavBack, nil) != i18n.NavBack || nc.Has("es", i18n.NavBack) {
			t.Error("a nil catalogue must answer with the id")
		}
	})
}

// A text that cannot render with the data given falls back to the default
// locale rather than showing a template error.
func TestFormatFallsBackWhenATemplateFails(t *testing.T) {
	dir := t.TempDir()
	c := load(t, write(t, dir, "inst.en.toml", `"validate.range" = "Between {{.Min.Low}} and {{.Max}}."`))
	if got, want := c.Format("en", i18n.ValidateRange, map[string]any{"Min": 1, "Max": 5}), "Escriba un número entre 1 y 5."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHas(t *testing.T) {
	dir := t.TempDir()
	c := load(t, write(t, dir, "inst.es.toml", `"inst.welcome" = "Bienvenido."`))
	tests := []struct {
		locale, id string
		want       bool
	}{
		{"es", i18n.NavBack, true},
		{"qu", i18n.NavBack, true},
		{"es", "inst.welcome", true},
		{"en", "inst.welcome", false},
		{"qu", "inst.welcome", false},
		{"fr", i18n.NavBack, false},
		{"es-EC", i18n.NavBack, false},
		{"es", "no.such.id", false},
	}
	for _, tt := range tests {
		if got := c.Has(tt.locale, tt.id); got != tt.want {
			t.Errorf("Has(%q, %q) = %v, want %v", tt.locale, tt.id, got, tt.want)
		}
	}
}

func TestLoadOverrides(t *testing.T) {
	dir := t.TempDir()
	es := write(t, dir, "registro.es.toml", `
# An institution's own words.
["end.goodbye"]
description = "Last screen."
other = "Gracias por usar el Registro Civil."

["registro.ask_cedula"]
other = "Escriba su cédula."
`)
	qu := write(t, dir, "registro.qu-EC.yaml", `
end.goodbye: "Yupaychani."
validate.range: "{{.Min}}-manta {{.Max}}-kama killkapay."
`)
	en := write(t, dir, "en.json", `{"end.goodbye": "Thanks for using the Civil Registry."}`)
	untranslated := write(t, dir, "blank.en.toml", `"nav.back" = ""`)
	c := load(t, es, qu, en, untranslated)

	tests := []struct{ locale, id, want string }{
		{"es", i18n.Goodbye, "Gracias por usar el Registro Civil."},
		{"es", "registro.ask_cedula", "Escriba su cédula."},
		{"en", "registro.ask_cedula", "Escriba su cédula."},
		{"qu", i18n.Goodbye, "Yupaychani."},
		{"en", i18n.Goodbye, "Thanks for using the Civil Registry."},
		// An empty text keeps the one before it.
		{"en", i18n.NavBack, "Back"},
		// Everything else is untouched.
		{"es", i18n.NavBack, "Atrás"},
		{"qu", i18n.NavMore, "Ashtawan"},
	}
	for _, tt := range tests {
		if got := c.Text(tt.locale, tt.id); got != tt.want {
			t.Errorf("Text(%q, %q) = %q, want %q", tt.locale, tt.id, got, tt.want)
		}
	}
	if got, want := c.Format("qu", i18n.ValidateRange, map[string]any{"Min": 2, "Max": 9}), "2-manta 9-kama killkapay."; got != want {
		t.Errorf("Format(qu, validate.range) = %q, want %q", got, want)
	}

	// Later files win.
	es2 := write(t, dir, "later.es.toml", `"end.goodbye" = "Hasta pronto."`)
	if got := load(t, es, es2).Text("es", i18n.Goodbye); got != "Hasta pronto." {
		t.Errorf("later file: got %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, file, content, want string
	}{
		{"unsupported locale", "inst.fr.toml", `"nav.back" = "Retour"`, `locale "fr"`},
		{"no locale in the name", "messages.toml", `"nav.back" = "Atrás"`, "name files like name.es.toml"},
		{"unknown format", "inst.es.ini", `nav.back = Atrás`, "no unmarshaler"},
		{"bad TOML", "bad.es.toml", `"nav.back" = `, "bad.es.toml"},
		{"bad template", "tmpl.es.toml", `"validate.range" = "Entre {{.Min y {{.Max}}"`, `"validate.range"`},
		{"no other form", "plural.es.toml", "[\"inst.items\"]\none = \"Un trámite\"\n", `no "other" text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, dir, tt.file, tt.content)
			_, err := i18n.Load(path)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q should name %s and say %q", err, tt.file, tt.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := i18n.Load(filepath.Join(dir, "missing.es.toml")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("want a not-exist error, got %v", err)
		}
	})
}

func TestReviewPending(t *testing.T) {
	c := load(t)
	for loc, ids := range i18n.ReviewPending {
		if !c.Supported(loc) {
			t.Errorf("ReviewPending: unsupported locale %q", loc)
		}
		for _, id := range ids {
			if !slices.Contains(i18n.AllIDs, id) {
				t.Errorf("ReviewPending[%q]: unknown id %q", loc, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		head, err := os.ReadFile("locales/active." + loc + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(head), "REVIEW PENDING") {
			t.Errorf("active.%s.toml: texts await review but the header does not say REVIEW PENDING", loc)
		}
	}
}

func TestTextDoesNotAllocate(t *testing.T) {
	c := load(t)
	for _, tt := range []struct{ locale, id string }{
		{"qu", i18n.NavBack},          // own text
		{"fr", i18n.NavBack},          // fallback to es
		{"qu", "no.such.id"},          // fallback to the id
		{"es", i18n.ValidateRange},    // template, unrendered
		{"en", i18n.ServiceUnavail},   // own text
		{"", i18n.CallUnavailable},    // fallback to es
		{"es-EC", i18n.InvalidOption}, // not normalised: fallback to es
	} {
		if n := testing.AllocsPerRun(100, func() { _ = c.Text(tt.locale, tt.id) }); n != 0 {
			t.Errorf("Text(%q, %q): %v allocations, want 0", tt.locale, tt.id, n)
		}
	}
}

// Run with -race: a loaded catalogue is shared by every session.
func TestConcurrentUse(t *testing.T) {
	c := load(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			loc := c.Locales()[g%3]
			for range 100 {
				for _, id := range i18n.AllIDs {
					_ = c.Text(loc, id)
					_ = c.Format(loc, id, map[string]any{"Min": g, "Max": 10})
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkText(b *testing.B) {
	c := load(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Text("qu", i18n.SessionExpired)
	}
}

func BenchmarkTextFallback(b *testing.B) {
	c := load(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Text("fr", i18n.SessionExpired)
	}
}

func BenchmarkFormat(b *testing.B) {
	c := load(b)
	data := map[string]any{"Min": 1, "Max": 31}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Format("es", i18n.ValidateRange, data)
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i18n.Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
