package diag_test

import (
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// Every YAML file kind reads anchors one way. An alias (*name) stands for
// the text it names, as if written out again; a merge key (<<) is refused
// with one message where it is written, never read as a field nor as an
// unknown key. Flows refuse anchors altogether, at the first one.
func TestAnchorsOneWay(t *testing.T) {
	const merge = "merge keys (<<) are not supported: write the fields out"
	const refused = "anchors and aliases (&, *) are not supported in flow files"
	env := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		name, yaml string
		load       func(string) error
		wantErr    string // "" when the file loads
		check      func(*testing.T, string)
	}{
		{
			name: "templates: an alias for a text",
			yaml: "templates:\n  a:\n    es: &t 'Hola {{n}}'\n    en: *t\n",
			load: func(y string) error { _, err := notify.ParseTemplates("t.yaml", []byte(y)); return err },
			check: func(t *testing.T, y string) {
				tpl, _ := notify.ParseTemplates("t.yaml", []byte(y))
				a, _ := tpl.Get("a")
				if text, used, err := a.Render("en", map[string]string{"n": "Ana"}); text != "Hola Ana" || used != "en" || err != nil {
					t.Errorf("en through the alias: %q %s %v", text, used, err)
				}
			},
		},
		{
			name: "templates: an alias for a template",
			yaml: "templates:\n  a: &a\n    es: Hola\n  b: *a\n",
			load: func(y string) error { _, err := notify.ParseTemplates("t.yaml", []byte(y)); return err },
			check: func(t *testing.T, y string) {
				tpl, _ := notify.ParseTemplates("t.yaml", []byte(y))
				if strings.Join(tpl.IDs(), ",") != "a,b" {
					t.Errorf("ids %q", tpl.IDs())
				}
			},
		},
		{
			name:    "templates: a merge key",
			yaml:    "templates:\n  a: &a\n    es: Hola\n  b:\n    <<: *a\n    es: Chao\n",
			load:    func(y string) error { _, err := notify.ParseTemplates("t.yaml", []byte(y)); return err },
			wantErr: "t.yaml:5:5: templates.b: " + merge,
		},
		{
			name: "services: an alias for headers",
			yaml: "services:\n  a:\n    base_url: http://x\n    headers: &h {X-Canal: ussd}\n  b:\n    base_url: http://y\n    headers: *h\n",
			load: func(y string) error { _, err := interop.ParseRegistry("s.yaml", []byte(y), env); return err },
		},
		{
			name:    "services: a merge key",
			yaml:    "services:\n  a: &a\n    base_url: http://x\n  b:\n    <<: *a\n    base_url: http://y\n",
			load:    func(y string) error { _, err := interop.ParseRegistry("s.yaml", []byte(y), env); return err },
			wantErr: "s.yaml:5:5: services.b: " + merge,
		},
		{
			name:    "flows: an alias",
			yaml:    "spec_version: 1\nid: f\ntitle: {es: &t Hola}\nstart: a\nsteps:\n  a:\n    kind: end\n    text: {es: *t}\n",
			load:    func(y string) error { _, ps := flows.Parse("f.yaml", []byte(y)); return errorOf(ps) },
			wantErr: "f.yaml:3:13: (file): error: " + refused,
		},
		{
			name:    "flows: a merge key",
			yaml:    "spec_version: 1\nid: f\ntitle: {es: Hola}\nstart: a\nsteps:\n  a: &a\n    kind: end\n    text: {es: x}\n  b:\n    <<: *a\n",
			load:    func(y string) error { _, ps := flows.Parse("f.yaml", []byte(y)); return errorOf(ps) },
			wantErr: "f.yaml:6:6: (file): error: " + refused,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.load(tc.yaml)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error:\n%v\nwant a line:\n%s", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, tc.yaml)
			}
		})
	}
}

func errorOf(ps flows.Problems) error {
	if ps.HasErrors() {
		return ps
	}
	return nil
}
