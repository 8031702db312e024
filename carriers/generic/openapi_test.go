package generic_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/carriers/generic"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// The contract test: openapi.yaml is what aggregators integrate against,
// so the handler is held to it — its paths, the request's fields (names,
// which are required, types, enums, bounds, patterns), the reply's keys
// and types, the documented statuses, and every example.

type schema struct {
	Ref                  string             `yaml:"$ref"`
	Type                 string             `yaml:"type"`
	Required             []string           `yaml:"required"`
	Properties           map[string]*schema `yaml:"properties"`
	AdditionalProperties bool               `yaml:"additionalProperties"`
	Enum                 []string           `yaml:"enum"`
	MaxLength            int                `yaml:"maxLength"`
	Pattern              string             `yaml:"pattern"`
}

type media struct {
	Schema   *schema `yaml:"schema"`
	Example  any     `yaml:"example"`
	Examples map[string]struct {
		Value map[string]any `yaml:"value"`
	} `yaml:"examples"`
}

type operation struct {
	OperationID string `yaml:"operationId"`
	RequestBody struct {
		Required bool             `yaml:"required"`
		Content  map[string]media `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]struct {
		Content map[string]media `yaml:"content"`
	} `yaml:"responses"`
}

type document struct {
	OpenAPI    string                           `yaml:"openapi"`
	Paths      map[string]map[string]*operation `yaml:"paths"`
	Components struct {
		Schemas map[string]*schema `yaml:"schemas"`
	} `yaml:"components"`
}

func load(t *testing.T) *document {
	t.Helper()
	data, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d document
	if err := yaml.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.0.") {
		t.Fatalf("openapi: %q, want 3.0.x", d.OpenAPI)
	}
	return &d
}

func (d *document) resolve(t *testing.T, s *schema) *schema {
	t.Helper()
	if s == nil || s.Ref == "" {
		return s
	}
	r := d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	if r == nil {
		t.Fatalf("$ref %q does not resolve", s.Ref)
	}
	return r
}

// op returns the one documented operation.
func (d *document) op(t *testing.T) *operation {
	t.Helper()
	o := d.Paths[path]["post"]
	if o == nil {
		t.Fatalf("openapi.yaml does not document POST %s", path)
	}
	return o
}

func send(body any) (int, string, []carrier.Inbound) {
	var b []byte
	switch v := body.(type) {
	case []byte:
		b = v
	default:
		b, _ = json.Marshal(v)
	}
	hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Cédula"}}
	rec := carriertest.Do(carriertest.Router(generic.New(generic.Options{}), hopper), http.MethodPost, path, jsonCT, bytes.NewReader(b))
	return rec.Code, rec.Body.String(), hopper.Calls()
}

func TestOpenAPIDocumentsTheRoutes(t *testing.T) {
	d := load(t)
	var documented []string
	for p, ops := range d.Paths {
		for method, o := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+p)
			if o.OperationID == "" || len(o.Responses) == 0 {
				t.Errorf("%s %s: no operationId or responses", method, p)
			}
		}
	}
	var served []string
	for _, r := range carriertest.Router(generic.New(generic.Options{}), &carriertest.Hopper{}).Routes() {
		served = append(served, r.Method+" "+r.Path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("openapi.yaml documents %q, the handler serves %q", documented, served)
	}
}

func TestOpenAPIRequest(t *testing.T) {
	d := load(t)
	o := d.op(t)
	body, ok := o.RequestBody.Content[jsonCT]
	if !o.RequestBody.Required || !ok {
		t.Fatalf("request body is not a required %s", jsonCT)
	}
	req := d.resolve(t, body.Schema)
	if !req.AdditionalProperties {
		t.Error("Request must allow additional properties: unknown fields are ignored")
	}

	// The documented fields are the ones the handler reads.
	var tags []string
	rt := reflect.TypeFor[generic.Request]()
	for i := range rt.NumField() {
		tags = append(tags, strings.Split(rt.Field(i).Tag.Get("json"), ",")[0])
	}
	props := slices.Sorted(maps.Keys(req.Properties))
	slices.Sort(tags)
	if !slices.Equal(props, tags) {
		t.Fatalf("openapi.yaml documents %q, generic.Request reads %q", props, tags)
	}

	// Every example is accepted; together they use every field and every
	// enum value.
	if len(body.Examples) == 0 {
		t.Fatal("no request examples")
	}
	used := map[string]bool{}
	for name, ex := range body.Examples {
		if code, resp, _ := send(ex.Value); code != http.StatusOK {
			t.Errorf("example %q: status %d: %s", name, code, resp)
		}
		for k, v := range ex.Value {
			used[k] = true
			used[k+"="+str(v)] = true
		}
	}
	for _, p := range props {
		if !used[p] {
			t.Errorf("no example uses %q", p)
		}
		for _, e := range req.Properties[p].Enum {
			if !used[p+"="+e] {
				t.Errorf("no example uses %s %q", p, e)
			}
		}
	}

	for _, p := range props {
		ps := req.Properties[p]
		base := exampleWith(body, p)
		try := func(name string, change func(map[string]any), wantOK bool) {
			t.Run(p+"/"+name, func(t *testing.T) {
				m := maps.Clone(base)
				change(m)
				code, resp, calls := send(m)
				if wantOK {
					if code != http.StatusOK || len(calls) != 1 {
						t.Errorf("status %d, %d calls: %s", code, len(calls), resp)
					}
					return
				}
				if code != http.StatusBadRequest || !strings.HasPrefix(resp, p+": ") || len(calls) != 0 {
					t.Errorf("status %d, %d calls, body %q; want 400 naming %s", code, len(calls), resp, p)
				}
			})
		}
		try("omitted", func(m map[string]any) { delete(m, p) }, !slices.Contains(req.Required, p))
		if ps.Type == "string" {
			try("a number", func(m map[string]any) { m[p] = 7 }, false)
			try("an object", func(m map[string]any) { m[p] = map[string]any{} }, false)
		}
		if ps.MaxLength > 0 {
			try("over maxLength", func(m map[string]any) { m[p] = strings.Repeat("1", ps.MaxLength+1) }, false)
		}
		if len(ps.Enum) > 0 {
			try("outside the enum", func(m map[string]any) { m[p] = "x" + ps.Enum[0] }, false)
		}
		if ps.Pattern != "" {
			try("against the pattern", func(m map[string]any) { m[p] = "1 2" }, false)
		}
	}
	t.Run("unknown fields are ignored", func(t *testing.T) {
		m := maps.Clone(exampleWith(body, "input"))
		m["hop"] = 3
		m["extra"] = map[string]any{"a": []any{1, "b"}}
		if code, resp, _ := send(m); code != http.StatusOK {
			t.Errorf("status %d: %s", code, resp)
		}
	})
}

// exampleWith returns a request example that has field p (the first by
// name, for determinism).
func exampleWith(body media, p string) map[string]any {
	names := slices.Sorted(maps.Keys(body.Examples))
	for _, n := range names {
		if _, ok := body.Examples[n].Value[p]; ok {
			return body.Examples[n].Value
		}
	}
	return body.Examples[names[0]].Value
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestOpenAPIResponses(t *testing.T) {
	d := load(t)
	o := d.op(t)

	documented := slices.Sorted(maps.Keys(o.Responses))
	if want := []string{"200", "400", "413", "415"}; !slices.Equal(documented, want) {
		t.Errorf("documented statuses %q, the handler answers %q", documented, want)
	}

	ok := o.Responses["200"].Content[jsonCT]
	reply := d.resolve(t, ok.Schema)
	if reply == nil {
		t.Fatal("200 has no JSON schema")
	}
	if len(ok.Examples) == 0 {
		t.Error("no reply examples")
	}
	for name, ex := range ok.Examples {
		t.Run("example "+name, func(t *testing.T) { checkAgainst(t, reply, ex.Value) })
	}
	reqExamples := o.RequestBody.Content[jsonCT].Examples
	for _, name := range slices.Sorted(maps.Keys(reqExamples)) {
		t.Run("reply to "+name, func(t *testing.T) {
			code, body, _ := send(reqExamples[name].Value)
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); code != http.StatusOK || err != nil {
				t.Fatalf("status %d, body %q: %v", code, body, err)
			}
			checkAgainst(t, reply, m)
		})
	}

	// Each error status: what the handler answers is what the example says.
	refused := map[string]func() *result{
		"400": func() *result {
			return do(jsonCT, carriertest.Testdata(t, "bad_phone.json"))
		},
		"413": func() *result {
			return do(jsonCT, []byte(`{"pad":"`+strings.Repeat("x", 8<<10)+`"}`))
		},
		"415": func() *result {
			return do("application/x-www-form-urlencoded", carriertest.Testdata(t, "continue.json"))
		},
	}
	for _, status := range slices.Sorted(maps.Keys(refused)) {
		t.Run(status, func(t *testing.T) {
			m, ok := o.Responses[status].Content["text/plain"]
			if !ok {
				t.Fatalf("%s is not documented as text/plain", status)
			}
			got := refused[status]()
			if strconv.Itoa(got.code) != status || got.contentType != echoTextPlain || got.body != m.Example {
				t.Errorf("got %d %q %q; documented %s %q", got.code, got.contentType, got.body, status, m.Example)
			}
		})
	}
}

const echoTextPlain = "text/plain; charset=UTF-8"

type result struct {
	code        int
	contentType string
	body        string
}

func do(contentType string, body []byte) *result {
	rec := carriertest.Do(carriertest.Router(generic.New(generic.Options{}), &carriertest.Hopper{}), http.MethodPost,
		path, contentType, bytes.NewReader(body))
	return &result{rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()}
}

// checkAgainst holds a decoded JSON object to an object schema: only its
// properties, all required ones, each of its type and within maxLength.
func checkAgainst(t *testing.T, s *schema, m map[string]any) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(m))
	props := slices.Sorted(maps.Keys(s.Properties))
	if !slices.Equal(keys, props) {
		t.Errorf("keys %q, schema properties %q", keys, props)
	}
	for _, r := range s.Required {
		if _, ok := m[r]; !ok {
			t.Errorf("required %q missing from %v", r, m)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		ps := s.Properties[k]
		if ps == nil {
			continue
		}
		switch v := m[k]; ps.Type {
		case "string":
			sv, ok := v.(string)
			if !ok {
				t.Errorf("%s = %v, want a string", k, v)
			} else if ps.MaxLength > 0 && utf8.RuneCountInString(sv) > ps.MaxLength {
				t.Errorf("%s longer than %d", k, ps.MaxLength)
			}
		case "boolean":
			if _, ok := v.(bool); !ok {
				t.Errorf("%s = %v, want a boolean", k, v)
			}
		default:
			t.Errorf("%s: schema type %q not checked", k, ps.Type)
		}
	}
}
