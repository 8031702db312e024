package tmpl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
)

func TestParseAndRender(t *testing.T) {
	for _, tc := range []struct {
		src, want string
		opt       tmpl.Options
		names     []string
	}{
		{src: "Hola", want: "Hola"},
		{src: "", want: ""},
		{src: "Su trámite {{numero}} está listo", want: "Su trámite N1 está listo", names: []string{"numero"}},
		{src: "{{ numero }}{{numero}}", want: "N1N1", names: []string{"numero"}},
		{src: "{{item.name}}: {{numero}}", want: "I.name: N1", opt: tmpl.Options{Dotted: true}, names: []string{"item.name", "numero"}},
		{src: "{{.Code}}", want: "C", opt: tmpl.Options{LeadingDot: true}, names: []string{"Code"}},
		{src: `llaves \{{ y \}} literales; \n y { } sueltos`, want: `llaves {{ y }} literales; \n y { } sueltos`},
		{src: `\{{numero\}}`, want: `{{numero}}`},
	} {
		tp, err := tmpl.Parse(tc.src, tc.opt)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.src, err)
			continue
		}
		got, err := tp.Render("es", map[string]string{"numero": "N1", "item.name": "I.name", "Code": "C"})
		if err != nil || got != tc.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tc.src, got, err, tc.want)
		}
		if names := tp.Names(); strings.Join(names, ",") != strings.Join(tc.names, ",") {
			t.Errorf("Names(%q) = %q, want %q", tc.src, names, tc.names)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		src  string
		opt  tmpl.Options
		kind tmpl.Kind
		at   int
		msg  string
	}{
		{"Hola {{nombre", tmpl.Options{}, tmpl.Unclosed, 5, `"{{" not closed with "}}"`},
		{"Hola }} mundo", tmpl.Options{}, tmpl.Stray, 5, `"}}" without "{{"`},
		{"a {{ }}", tmpl.Options{}, tmpl.Empty, 2, "empty {{}}"},
		{"Hola {{if .x}}", tmpl.Options{}, tmpl.BadHole, 5, "{{if .x}}: holes are a {{name}} of letters, digits and _, perhaps with a format ({{name | money}}); templates have no logic"},
		{"{{a.b}}", tmpl.Options{}, tmpl.BadHole, 0, "{{a.b}}: holes are a {{name}} of letters, digits and _, perhaps with a format ({{name | money}}); templates have no logic"},
		{"{{.Flow}}", tmpl.Options{}, tmpl.BadHole, 0, "{{.Flow}}: holes are a {{name}} of letters, digits and _, perhaps with a format ({{name | money}}); templates have no logic"},
		{"x {{a..b}}", tmpl.Options{Dotted: true}, tmpl.BadHole, 2, "{{a..b}}: holes are a {{name}} or a path such as {{item.name}}, of letters, digits and _, perhaps with a format ({{name | money}}); templates have no logic"},
		{"{{1a}}", tmpl.Options{}, tmpl.BadHole, 0, "{{1a}}: holes are a {{name}} of letters, digits and _, perhaps with a format ({{name | money}}); templates have no logic"},
		{strings.Repeat("{{a}}", tmpl.MaxHoles+1), tmpl.Options{}, tmpl.TooMany, 5 * tmpl.MaxHoles, "more than 32 {{…}} holes"},
	} {
		_, err := tmpl.Parse(tc.src, tc.opt)
		var te *tmpl.Error
		if !errors.As(err, &te) || te.Kind != tc.kind || te.At != tc.at || te.Msg != tc.msg {
			t.Errorf("Parse(%q) = %#v, want kind %d at %d: %s", tc.src, err, tc.kind, tc.at, tc.msg)
		}
	}
}

func TestRenderNamesAMissingValue(t *testing.T) {
	tp, err := tmpl.Parse("{{a}} {{b}}", tmpl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tp.Render("es", map[string]string{"a": "1"}); err == nil || err.Error() != "no value for {{b}}" {
		t.Errorf("Render without b: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Hola {{nombre}} \\{{ }} {{a.b}}")
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := tmpl.Parse(src, tmpl.Options{Dotted: true})
		if err != nil {
			return
		}
		values := map[string]string{}
		for _, h := range tp.Holes() {
			values[h.Name] = ""
			if !strings.HasPrefix(src[h.At:], "{{") {
				t.Fatalf("hole %q at %d of %q is not a {{", h.Name, h.At, src)
			}
		}
		if _, err := tp.Render("es", values); err != nil {
			t.Fatal(err)
		}
	})
}
