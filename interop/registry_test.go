package interop_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"ventanilla/interop"
)

// env is an injected environment for LoadRegistryWith and ParseRegistry.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestLoadRegistry(t *testing.T) {
	reg, err := interop.LoadRegistryWith("testdata/services.yaml", env(map[string]string{
		"TURNOS_URL": "http://127.0.0.1:8080/turnos/",
		"TURNOS_KEY": "k-123",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reg.IDs(), []string{"registro.citizen", "turnos.book", "turnos.offices", "turnos.slots"}; !slices.Equal(got, want) {
		t.Errorf("IDs() = %q, want %q", got, want)
	}

	book, ok := reg.Lookup("turnos.book")
	if !ok {
		t.Fatal("turnos.book not found")
	}
	if book.ID != "turnos.book" || book.Kind != interop.KindREST || book.Method != "POST" ||
		book.BaseURL != "http://127.0.0.1:8080/turnos/" || book.Path != "/appointments" ||
		book.Timeout != interop.DefaultTimeout || book.MaxBody != 16384 || book.Disabled {
		t.Errorf("turnos.book = %+v", *book)
	}
	if got := book.Headers["X-Api-Key"]; got != "k-123" {
		t.Errorf("X-Api-Key = %q, want the expanded ${TURNOS_KEY}", got)
	}

	slots, _ := reg.Lookup("turnos.slots")
	if slots.Method != "GET" || slots.Timeout != 2*time.Second || slots.MaxBody != interop.DefaultMaxBody {
		t.Errorf("turnos.slots defaults: method %q timeout %v max_body %d", slots.Method, slots.Timeout, slots.MaxBody)
	}
	if got := slots.PathParams(); !slices.Equal(got, []string{"office"}) {
		t.Errorf("turnos.slots PathParams() = %q", got)
	}

	citizen, _ := reg.Lookup("registro.citizen")
	if !citizen.Disabled || !slices.Equal(citizen.PathParams(), []string{"cedula", "year"}) {
		t.Errorf("registro.citizen = %+v, PathParams %q", *citizen, citizen.PathParams())
	}

	if _, ok := reg.Lookup("turnos.nope"); ok {
		t.Error("Lookup found an undeclared service")
	}
}

func TestLoadRegistryReportsEveryProblem(t *testing.T) {
	_, err := interop.LoadRegistryWith("testdata/bad.yaml", env(nil))
	want := strings.Join([]string{
		`testdata/bad.yaml:3:5: services.turnos.book.base_url: environment variable TURNOS_URL is not set`,
		`testdata/bad.yaml:4:5: services.turnos.book.methd: unknown field "methd" (did you mean "method"?)`,
		`testdata/bad.yaml:5:5: services.turnos.book.path: unclosed "{" in "/appointments/{code"`,
		`testdata/bad.yaml:6:5: services.turnos.book.timeout: 3 needs a unit, e.g. "3s"`,
		`testdata/bad.yaml:8:5: services.turnos.slots.base_url: must be an absolute http or https URL, got "ftp://turnos.example"`,
		`testdata/bad.yaml:9:5: services.turnos.slots.method: unknown method "FETCH" (known: GET, POST, PUT, DELETE)`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
	var ce *interop.ConfigError
	if !errors.As(err, &ce) || ce.Line != 3 || ce.Column != 5 || ce.Path != "services.turnos.book.base_url" {
		t.Errorf("errors.As(*ConfigError) = %+v", ce)
	}
}

func TestLoadRegistryMissingFile(t *testing.T) {
	_, err := interop.LoadRegistry("testdata/nope.yaml")
	if err == nil || !strings.Contains(err.Error(), "loading services") {
		t.Errorf("err = %v", err)
	}
}

func TestParseRegistryErrors(t *testing.T) {
	vars := env(map[string]string{"URL": "http://127.0.0.1"})
	tests := []struct {
		name, yaml, want string
	}{
		{"root is a list", "- a\n",
			`services.yaml:1:1: want a mapping with a "services" key`},
		{"unknown top-level field", "servics: {}\n",
			`services.yaml:1:1: servics: unknown field "servics" (did you mean "services"?)`},
		{"services is a list", "services: [a]\n",
			`services.yaml:1:1: services: want a mapping of service id to service`},
		{"invalid id", "services:\n  turnos book:\n    base_url: http://x\n",
			`services.yaml:2:3: services.turnos book: invalid service id "turnos book" (use letters, digits, '.', '_' and '-')`},
		{"service is a string", "services:\n  a: http://x\n",
			`services.yaml:2:3: services.a: want a mapping of fields (base_url, path, …)`},
		{"missing base_url", "services:\n  a:\n    path: /x\n",
			`services.yaml:2:3: services.a.base_url: required`},
		{"empty service", "services:\n  a:\n",
			`services.yaml:2:3: services.a.base_url: required`},
		{"duplicate service", "services:\n  a: {base_url: http://x}\n  a: {base_url: http://y}\n",
			`services.yaml:3:3: services.a: duplicate key "a" (first at line 2)`},
		{"duplicate field", "services:\n  a:\n    base_url: http://x\n    base_url: http://y\n",
			`services.yaml:4:5: services.a.base_url: duplicate key "base_url" (first at line 3)`},
		{"unknown kind", "services:\n  a:\n    kind: xroad\n    base_url: http://x\n",
			`services.yaml:3:5: services.a.kind: unknown kind "xroad" (known: rest)`},
		{"unknown field far from any", "services:\n  a:\n    base_url: http://x\n    retries: 3\n",
			`services.yaml:4:5: services.a.retries: unknown field "retries"`},
		{"base_url not a string", "services:\n  a:\n    base_url: [http://x]\n",
			`services.yaml:3:5: services.a.base_url: want a string`},
		{"base_url relative", "services:\n  a:\n    base_url: /turnos\n",
			`services.yaml:3:5: services.a.base_url: must be an absolute http or https URL, got "/turnos"`},
		{"base_url fragment", "services:\n  a:\n    base_url: http://x/#top\n",
			`services.yaml:3:5: services.a.base_url: must not have a fragment (#…)`},
		{"base_url no host", "services:\n  a:\n    base_url: 'http:///x'\n",
			`services.yaml:3:5: services.a.base_url: has no host: "http:///x"`},
		{"path relative", "services:\n  a:\n    base_url: ${URL}\n    path: offices\n",
			`services.yaml:4:5: services.a.path: must start with "/", got "offices"`},
		{"path with query", "services:\n  a:\n    base_url: ${URL}\n    path: /offices?all=1\n",
			`services.yaml:4:5: services.a.path: must not contain '?': params that are not in the path become the query string`},
		{"path unmatched brace", "services:\n  a:\n    base_url: ${URL}\n    path: /offices/id}\n",
			`services.yaml:4:5: services.a.path: unmatched "}" in "/offices/id}"`},
		{"path adjacent params", "services:\n  a:\n    base_url: ${URL}\n    path: /x/{a}{b}\n",
			`services.yaml:4:5: services.a.path: parameters {a} and {b} need literal text between them in "/x/{a}{b}"`},
		{"path bad param name", "services:\n  a:\n    base_url: ${URL}\n    path: /x/{office-id}\n",
			`services.yaml:4:5: services.a.path: invalid parameter name {office-id} in "/x/{office-id}" (use letters, digits and _)`},
		{"path with a space", "services:\n  a:\n    base_url: ${URL}\n    path: /mis turnos\n",
			`services.yaml:4:5: services.a.path: invalid characters in "/mis turnos" (escape them, e.g. %20 for a space)`},
		{"timeout without unit", "services:\n  a:\n    base_url: ${URL}\n    timeout: 500\n",
			`services.yaml:4:5: services.a.timeout: 500 needs a unit, e.g. "500s"`},
		{"timeout negative", "services:\n  a:\n    base_url: ${URL}\n    timeout: -1s\n",
			`services.yaml:4:5: services.a.timeout: want a positive duration such as "3s" or "500ms", got "-1s"`},
		{"max_body with unit", "services:\n  a:\n    base_url: ${URL}\n    max_body: 64k\n",
			`services.yaml:4:5: services.a.max_body: want a positive number of bytes, e.g. 65536`},
		{"disabled yes", "services:\n  a:\n    base_url: ${URL}\n    disabled: yes\n",
			`services.yaml:4:5: services.a.disabled: want true or false`},
		{"headers list", "services:\n  a:\n    base_url: ${URL}\n    headers: [X-A]\n",
			`services.yaml:4:5: services.a.headers: want a mapping of header name to value`},
		{"header without value", "services:\n  a:\n    base_url: ${URL}\n    headers:\n      X-A:\n",
			`services.yaml:5:7: services.a.headers.X-A: want a value (a string, a number or ${VAR})`},
		{"header name invalid", "services:\n  a:\n    base_url: ${URL}\n    headers:\n      X Api: k\n",
			`services.yaml:5:7: services.a.headers.X Api: invalid header name "X Api"`},
		{"header twice", "services:\n  a:\n    base_url: ${URL}\n    headers:\n      X-Key: a\n      x-key: b\n",
			`services.yaml:6:7: services.a.headers.x-key: already set as "X-Key" at line 5 (header names ignore case)`},
		{"two unset variables", "services:\n  a:\n    base_url: ${URL}\n    headers:\n      Authorization: Basic ${USER}:${PASS}\n",
			`services.yaml:5:7: services.a.headers.Authorization: environment variables USER, PASS are not set`},
		{"unclosed variable", "services:\n  a:\n    base_url: ${URL\n",
			`services.yaml:3:5: services.a.base_url: unclosed "${"`},
		{"invalid variable name", "services:\n  a:\n    base_url: http://${1HOST}\n",
			`services.yaml:3:5: services.a.base_url: invalid variable name ${1HOST}`},
		{"merge key", "services:\n  a: &a\n    base_url: ${URL}\n  b:\n    <<: *a\n",
			"services.yaml:4:3: services.b.base_url: required\n" +
				`services.yaml:5:5: services.b: merge keys (<<) are not supported: write the fields out`},
		{"key is a list", "services:\n  [a, b]: {base_url: http://x}\n",
			`services.yaml:2:3: services: keys must be plain names`},
		{"syntax error", "services:\n  a: [\n",
			`services.yaml:2: did not find expected node content`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := interop.ParseRegistry("services.yaml", []byte(tt.yaml), vars)
			if err == nil {
				t.Fatalf("no error; registry has %q", reg.IDs())
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n  %v\nwant:\n  %s", err, tt.want)
			}
		})
	}
}

func TestParseRegistryAccepts(t *testing.T) {
	vars := env(map[string]string{"HOST": "127.0.0.1:9000", "TOKEN": "t0k", "EMPTY": ""})
	tests := []struct {
		name, yaml string
		check      func(t *testing.T, r *interop.Registry)
	}{
		{"empty file", "", func(t *testing.T, r *interop.Registry) {
			if len(r.IDs()) != 0 {
				t.Error(r.IDs())
			}
		}},
		{"comments only", "# nothing yet\n", nil},
		{"no services yet", "services:\n", nil},
		{"lower-case method", "services:\n  a:\n    base_url: http://x\n    method: post\n", func(t *testing.T, r *interop.Registry) {
			if s, _ := r.Lookup("a"); s.Method != "POST" {
				t.Errorf("method %q", s.Method)
			}
		}},
		{"expansion in the middle, $ alone kept", "services:\n  a:\n    base_url: http://${HOST}/v1${EMPTY}\n    headers:\n      Authorization: Bearer ${TOKEN}\n      X-Price: $5\n      X-Version: 2\n",
			func(t *testing.T, r *interop.Registry) {
				s, _ := r.Lookup("a")
				if s.BaseURL != "http://127.0.0.1:9000/v1" || s.Headers["Authorization"] != "Bearer t0k" ||
					s.Headers["X-Price"] != "$5" || s.Headers["X-Version"] != "2" {
					t.Errorf("%+v", *s)
				}
			}},
		{"alias for shared headers", "services:\n  a:\n    base_url: http://x\n    headers: &h {X-Key: k}\n  b:\n    base_url: http://y\n    headers: *h\n",
			func(t *testing.T, r *interop.Registry) {
				if s, _ := r.Lookup("b"); s.Headers["X-Key"] != "k" {
					t.Errorf("%+v", *s)
				}
			}},
		{"null fields take defaults", "services:\n  a:\n    base_url: http://x\n    method:\n    timeout: ~\n", func(t *testing.T, r *interop.Registry) {
			if s, _ := r.Lookup("a"); s.Method != "GET" || s.Timeout != interop.DefaultTimeout {
				t.Errorf("%+v", *s)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := interop.ParseRegistry("services.yaml", []byte(tt.yaml), vars)
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestNewRegistry(t *testing.T) {
	r := interop.NewRegistry(
		interop.Service{ID: "b", BaseURL: "http://127.0.0.1", Path: "/x/{id}"},
		interop.Service{ID: "a", BaseURL: "http://127.0.0.1", Method: "PUT"},
	)
	if got := r.IDs(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("IDs() = %q", got)
	}
	a, _ := r.Lookup("a")
	if a.Kind != interop.KindREST || a.Timeout != interop.DefaultTimeout || a.MaxBody != interop.DefaultMaxBody {
		t.Errorf("defaults not applied: %+v", *a)
	}

	for name, svc := range map[string]interop.Service{
		"invalid method": {ID: "a", BaseURL: "http://x", Method: "FETCH"},
		"invalid id":     {ID: "", BaseURL: "http://x"},
		"no base url":    {ID: "a"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			interop.NewRegistry(svc)
		})
	}

	var nilReg *interop.Registry
	if _, ok := nilReg.Lookup("a"); ok || nilReg.IDs() != nil {
		t.Error("a nil Registry should be empty")
	}
}

func TestPathParams(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"", nil},
		{"/offices", nil},
		{"/offices/{office}/slots", []string{"office"}},
		{"/a/{x}/b/{y}/{x}.json", []string{"x", "y"}},
	}
	for _, tt := range tests {
		// A literal Service (not from a Registry) answers too: the lint may
		// hold one.
		literal := interop.Service{Path: tt.path}
		reg := interop.NewRegistry(interop.Service{ID: "s", BaseURL: "http://x", Path: tt.path})
		registered, _ := reg.Lookup("s")
		for _, s := range []*interop.Service{&literal, registered} {
			if got := s.PathParams(); !slices.Equal(got, tt.want) {
				t.Errorf("%q: PathParams() = %q, want %q", tt.path, got, tt.want)
			}
		}
	}
}

func TestOutcomes(t *testing.T) {
	want := []interop.Outcome{"ok", "not_found", "rejected", "error", "timeout", "unavailable"}
	got := interop.Outcomes()
	if !slices.Equal(got, want) {
		t.Fatalf("Outcomes() = %q, want %q", got, want)
	}
	got[0] = "mutated"
	if interop.Outcomes()[0] != interop.OK {
		t.Error("Outcomes() shares its backing array")
	}
	for _, o := range want {
		if !o.Valid() {
			t.Errorf("%q not Valid", o)
		}
	}
	if interop.Outcome("success").Valid() {
		t.Error(`"success" is Valid`)
	}
}
