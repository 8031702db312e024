package interop_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/interop"
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
			`services.yaml:3:3: services.a: key "a" appears twice (first at 2:3)`},
		{"duplicate field", "services:\n  a:\n    base_url: http://x\n    base_url: http://y\n",
			`services.yaml:4:5: services.a.base_url: key "base_url" appears twice (first at 3:5)`},
		{"unknown kind", "services:\n  a:\n    kind: xroad\n    base_url: http://x\n",
			`services.yaml:3:5: services.a.kind: unknown kind "xroad" (known: rest, xroad-rest, soap)`},
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
		{"header twice", "services:\n  a:\n    base_url: ${URL}\n    headers:\n      X-Canal: a\n      x-canal: b\n",
			`services.yaml:6:7: services.a.headers.x-canal: already set as "X-Canal" at line 5 (header names ignore case)`},
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
			"services.yaml:2:6: this `[` is never closed; end the list with `]`, its items separated by `,`"},
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
		{"alias for shared headers", "services:\n  a:\n    base_url: http://x\n    headers: &h {X-Canal: ussd}\n  b:\n    base_url: http://y\n    headers: *h\n",
			func(t *testing.T, r *interop.Registry) {
				if s, _ := r.Lookup("b"); s.Headers["X-Canal"] != "ussd" {
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

func TestParseRegistryPolicies(t *testing.T) {
	reg, err := interop.ParseRegistry("services.yaml", []byte(`
services:
  registro.citizen:
    kind: xroad-rest
    base_url: https://ss.example.gob.ec
    path: /v1/citizens/{cedula}
    xroad:
      client: EC/GOB/1760001550001/VENTANILLA
      service: EC/GOB/1760013210001/REGISTRO/consultaCiudadano
    auth: {type: bearer, token: "${TOKEN}"}
    retry: {attempts: 3, backoff: 50ms, max_backoff: 400ms}
    breaker: {failures: 3, open_for: 10s}
    rate: {per_second: 2.5}
    cache: 60s
  turnos.book:
    base_url: http://127.0.0.1/turnos
    method: POST
    path: /appointments
    idempotent: true
    auth: {type: basic, user: "${USER}", password: "${PASS}"}
    rate: {per_second: 20, burst: 5}
  turnos.offices:
    base_url: http://127.0.0.1/turnos
    auth: {type: api_key, header: X-Api-Key, value: "${KEY}"}
`), env(map[string]string{"TOKEN": "t0k", "USER": "gw", "PASS": "pw", "KEY": "k-1"}))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := reg.Lookup("registro.citizen")
	if x.Kind != interop.KindXRoadREST || x.XRoad.Client != "EC/GOB/1760001550001/VENTANILLA" ||
		x.Auth.Token != "t0k" || x.Retry != (interop.Retry{Attempts: 3, Backoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}) ||
		x.Breaker != (interop.Breaker{Failures: 3, OpenFor: 10 * time.Second}) ||
		x.Rate != (interop.Rate{PerSecond: 2.5, Burst: 3}) || x.Cache != time.Minute {
		t.Errorf("registro.citizen = %+v", *x)
	}
	book, _ := reg.Lookup("turnos.book")
	if !book.Idempotent || book.Auth.User != "gw" || book.Auth.Password != "pw" || book.Rate.Burst != 5 {
		t.Errorf("turnos.book = %+v", *book)
	}
	offices, _ := reg.Lookup("turnos.offices")
	if offices.Retry.Attempts != 1 || offices.Retry.Backoff != interop.DefaultBackoff ||
		offices.Breaker.Failures != interop.DefaultBreakerFailures || offices.Breaker.OpenFor != interop.DefaultBreakerOpenFor ||
		offices.Rate.PerSecond != 0 || offices.Cache != 0 || offices.Auth.Value != "k-1" {
		t.Errorf("defaults: %+v", *offices)
	}
	if s := fmt.Sprintf("%v %+v", x.Auth, x.Auth); strings.Contains(s, "t0k") {
		t.Errorf("printing Auth shows the token: %s", s)
	}
}

func TestParseRegistryPolicyErrors(t *testing.T) {
	vars := env(map[string]string{"URL": "http://127.0.0.1", "SECRET": "s", "TLS_URL": "https://127.0.0.1"})
	const svc = "services:\n  a:\n    base_url: ${URL}\n"
	const xr = "services:\n  a:\n    kind: xroad-rest\n    base_url: ${URL}\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"xroad-soap is planned", "services:\n  a:\n    kind: xroad-soap\n    base_url: ${URL}\n",
			`services.yaml:3:5: services.a.kind: kind "xroad-soap" is not supported yet (supported: rest, xroad-rest, soap)`},

		{"literal bearer token", svc + "    auth:\n      type: bearer\n      token: abc123\n",
			`services.yaml:6:7: services.a.auth.token: secrets come from the environment: write ${VARIABLE} and set it, not the secret itself`},
		{"literal password", svc + "    auth: {type: basic, user: \"${SECRET}\", password: hunter2}\n",
			`services.yaml:4:44: services.a.auth.password: secrets come from the environment: write ${VARIABLE} and set it, not the secret itself`},
		{"literal api key", svc + "    auth: {type: api_key, header: X-Api-Key, value: k-123}\n",
			`services.yaml:4:46: services.a.auth.value: secrets come from the environment: write ${VARIABLE} and set it, not the secret itself`},
		{"literal credential header", svc + "    headers:\n      Authorization: Bearer abc\n",
			`services.yaml:5:7: services.a.headers.Authorization: carries a credential, which comes from the environment: write ${VARIABLE} and set it (or use auth)`},
		{"literal api key header", svc + "    headers:\n      X-Api-Key: k-123\n",
			`services.yaml:5:7: services.a.headers.X-Api-Key: carries a credential, which comes from the environment: write ${VARIABLE} and set it (or use auth)`},
		{"unset secret", svc + "    auth: {type: bearer, token: \"${NOPE}\"}\n",
			`services.yaml:4:26: services.a.auth.token: environment variable NOPE is not set`},
		{"bearer without token", svc + "    auth:\n      type: bearer\n",
			`services.yaml:4:5: services.a.auth.token: required for auth type bearer`},
		{"unknown auth type", svc + "    auth: {type: oauth2}\n",
			`services.yaml:4:12: services.a.auth.type: unknown auth type "oauth2" (known: none, bearer, basic, api_key, mtls)`},
		{"field of another auth type", svc + "    auth: {type: bearer, token: \"${SECRET}\", user: \"${SECRET}\"}\n",
			`services.yaml:4:46: services.a.auth.user: not used by auth type bearer`},
		{"unknown auth field", svc + "    auth: {type: bearer, tokn: x}\n",
			"services.yaml:4:5: services.a.auth.token: required for auth type bearer\n" +
				`services.yaml:4:26: services.a.auth.tokn: unknown field "tokn" (did you mean "token"?)`},
		{"auth header set twice", svc + "    auth: {type: bearer, token: \"${SECRET}\"}\n    headers:\n      Authorization: \"${SECRET}\"\n",
			`services.yaml:6:7: services.a.headers.Authorization: conflicts with auth (type bearer sets Authorization)`},
		{"mtls over http", svc + "    auth: {type: mtls, cert_file: a.pem, key_file: b.pem}\n",
			"services.yaml:4:12: services.a.auth.type: mtls needs an https base_url\n" +
				`services.yaml:4:24: services.a.auth.cert_file: cannot read a.pem: no such file or directory`},
		{"mtls missing key file", "services:\n  a:\n    base_url: ${TLS_URL}\n    auth: {type: mtls, cert_file: testdata/nope.pem}\n",
			`services.yaml:4:5: services.a.auth.key_file: required for auth type mtls`},
		{"auth is a string", svc + "    auth: bearer\n",
			`services.yaml:4:5: services.a.auth: want a mapping of ca_file, cert_file, header, key_file, password, token, type, user, value`},

		{"xroad without identities", xr,
			"services.yaml:2:3: services.a.xroad.client: required, as INSTANCE/CLASS/MEMBER/SUBSYSTEM\n" +
				"services.yaml:2:3: services.a.xroad.service: required, as INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE"},
		{"xroad client too short", xr + "    xroad:\n      client: EC/GOB\n      service: EC/GOB/1/REG/svc\n",
			`services.yaml:6:7: services.a.xroad.client: want INSTANCE/CLASS/MEMBER/SUBSYSTEM (the subsystem may be left out), got "EC/GOB"`},
		{"xroad service empty part", xr + "    xroad:\n      client: EC/GOB/1/GW\n      service: EC/GOB//REG/svc\n",
			`services.yaml:7:7: services.a.xroad.service: part 3 of "EC/GOB//REG/svc" is empty or padded with spaces`},
		{"xroad on a rest service", svc + "    xroad: {client: EC/GOB/1/GW}\n",
			`services.yaml:4:5: services.a.xroad: only for kind xroad-rest`},
		{"gateway's own x-road header", xr + "    xroad: {client: EC/GOB/1/GW, service: EC/GOB/2/REG/svc}\n    headers:\n      X-Road-Id: fixed\n",
			`services.yaml:7:7: services.a.headers.X-Road-Id: set by the gateway on every X-Road call`},

		{"retry attempts zero", svc + "    retry: {attempts: 0}\n",
			`services.yaml:4:13: services.a.retry.attempts: want a positive whole number`},
		{"retry attempts too many", svc + "    retry: {attempts: 11}\n",
			`services.yaml:4:13: services.a.retry.attempts: want 1 to 10 tries in all, got 11`},
		{"retry backoff without unit", svc + "    retry: {attempts: 2, backoff: 100}\n",
			`services.yaml:4:26: services.a.retry.backoff: 100 needs a unit, e.g. "100s"`},
		{"retry max below backoff", svc + "    retry: {attempts: 2, backoff: 1s, max_backoff: 500ms}\n",
			`services.yaml:4:39: services.a.retry.max_backoff: 500ms is shorter than backoff 1s`},
		{"unknown retry field", svc + "    retry: {tries: 3}\n",
			`services.yaml:4:13: services.a.retry.tries: unknown field "tries"`},
		{"idempotent yes", svc + "    idempotent: yes\n",
			`services.yaml:4:5: services.a.idempotent: want true or false`},
		{"breaker failures negative", svc + "    breaker: {failures: -1}\n",
			`services.yaml:4:15: services.a.breaker.failures: want a positive whole number`},
		{"breaker open_for bad", svc + "    breaker: {open_for: soon}\n",
			`services.yaml:4:15: services.a.breaker.open_for: want a positive duration such as "3s" or "500ms", got "soon"`},
		{"rate zero", svc + "    rate: {per_second: 0}\n",
			`services.yaml:4:12: services.a.rate.per_second: want a positive number of calls per second, e.g. 20 or 0.5`},
		{"burst without rate", svc + "    rate: {burst: 5}\n",
			`services.yaml:4:12: services.a.rate.burst: needs rate.per_second`},
		{"cache without unit", svc + "    cache: 60\n",
			`services.yaml:4:5: services.a.cache: 60 needs a unit, e.g. "60s"`},
		{"cache on POST", svc + "    method: POST\n    cache: 60s\n",
			`services.yaml:5:5: services.a.cache: only GET services are cached (this one is POST): an answer to a change must not be replayed`},
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
