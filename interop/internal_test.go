package interop

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The services file accepts exactly the fields Service declares.
func TestServiceFieldsMatchYAMLTags(t *testing.T) {
	var tags []string
	typ := reflect.TypeFor[Service]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if tag := f.Tag.Get("yaml"); f.IsExported() && tag != "-" {
			tags = append(tags, tag)
		}
	}
	slices.Sort(tags)
	if fields := sortedKeys(serviceFields); !slices.Equal(tags, fields) {
		t.Errorf("Service yaml tags %q, parser fields %q", tags, fields)
	}
}

func TestExpandEnv(t *testing.T) {
	getenv := func(name string) (string, bool) {
		v, ok := map[string]string{"A": "1", "B": "two", "EMPTY": ""}[name]
		return v, ok
	}
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${A}", "1", ""},
		{"x${A}y${B}z", "x1ytwoz", ""},
		{"${EMPTY}", "", ""},
		{"$A and $ and $$", "$A and $ and $$", ""},
		{"${A", "", `unclosed "${"`},
		{"${}", "", "invalid variable name ${}"},
		{"${A-B}", "", "invalid variable name ${A-B}"},
		{"${NOPE}", "", "environment variable NOPE is not set"},
		{"${X}${Y}${X}", "", "environment variables X, Y are not set"},
	}
	for _, tt := range tests {
		got, err := expandEnv(tt.in, getenv)
		if (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err || err == nil && got != tt.want {
			t.Errorf("expandEnv(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := sortedKeys(serviceFields)
	for in, want := range map[string]string{
		"methd": "method", "base-url": "base_url", "timout": "timeout", "header": "headers",
		"retries": "", "x": "",
	} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseRegistry: whatever an operator writes, the parser answers with a
// registry or positioned errors, never a panic.
func FuzzParseRegistry(f *testing.F) {
	f.Add([]byte("services:\n  a:\n    base_url: ${URL}\n    path: /x/{id}\n    headers: {K: v}\n"))
	f.Add([]byte("services:\n  a: &a {base_url: http://x}\n  b: *a\n"))
	f.Add([]byte("services: [1, 2]\n"))
	f.Add([]byte("- a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, err := ParseRegistry("f.yaml", data, func(string) (string, bool) { return "http://127.0.0.1", true })
		if err != nil {
			if reg != nil {
				t.Error("registry and error")
			}
			if !strings.HasPrefix(err.Error(), "f.yaml:") {
				t.Errorf("unpositioned error: %v", err)
			}
			return
		}
		for _, id := range reg.IDs() {
			s, _ := reg.Lookup(id)
			if s.Timeout <= 0 || s.MaxBody <= 0 || s.prefix == "" {
				t.Errorf("service %q not prepared: %+v", id, s)
			}
		}
	})
}

// FuzzPathTemplate: a compiled template renders any string param into
// exactly one path segment.
func FuzzPathTemplate(f *testing.F) {
	f.Add("/offices/{office}/slots", "../ x")
	f.Add("/a/{x}.json", "%2F")
	f.Add("/{x}", "..")
	f.Fuzz(func(t *testing.T, path, value string) {
		tmpl, err := parsePath(path)
		if err != nil || len(tmpl.params) == 0 {
			return
		}
		params := map[string]any{}
		for _, p := range tmpl.params {
			params[p] = value
		}
		var b strings.Builder
		if err := tmpl.render(&b, params); err != nil {
			return
		}
		literalSlashes := 0
		for _, part := range tmpl.parts {
			literalSlashes += strings.Count(part.lit, "/")
		}
		if got := strings.Count(b.String(), "/"); got != literalSlashes {
			t.Errorf("render(%q, %q) = %q: %d slashes, template has %d", path, value, b.String(), got, literalSlashes)
		}
	})
}

// FuzzResponseGet: any valid JSON body a back-end sends reads back as
// session values without panicking, and those values encode as JSON again.
func FuzzResponseGet(f *testing.F) {
	f.Add([]byte(`[{"id":"2026-11-24T09:00","n":1}]`), "0.id")
	f.Add([]byte(`{"a":{"b":[1,2.5,1e400,-0,null,true]}}`), "a.b")
	f.Add([]byte(`12345678901234567890`), "")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		if !json.Valid(body) {
			return
		}
		v := Response{Body: body}.Get(path)
		if _, err := json.Marshal(v); err != nil && !strings.Contains(err.Error(), "unsupported value") {
			t.Errorf("Get(%q) on %s = %#v: %v", path, body, v, err)
		}
	})
}
