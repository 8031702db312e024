package flows_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/flows"
)

// flowSchema compiles the generated schema with a validator that knows
// draft 2020-12, which also checks the schema against its metaschema.
// ref picks a part of it ("#/$defs/step"), or "" for the flow file.
func flowSchema(t testing.TB, ref string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(flows.Schema(catalog(t).Locales())))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(flows.SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(flows.SchemaID + ref)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlValue reads YAML as an editor's YAML 1.2 language server does and
// gives it to the validator as JSON.
func yamlValue(t testing.TB, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// shippedFlows are the flow files of the repository: the catalogue, the
// lint's mistakes corpus (mistakes of meaning, written in a well-formed
// file) and any institution package kept as test data.
func shippedFlows(t *testing.T) []string {
	var files []string
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		// The lint's corpus and the corpus of YAML syntax errors are of
		// mistakes, made on purpose.
		if d.IsDir() && (filepath.ToSlash(path) == "../flows/testdata/lint" || filepath.ToSlash(path) == "../cmd/ventanilla/testdata/syntax") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(data, []byte("spec_version:")) || bytes.Contains(data, []byte("\nspec_version:")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found %d flow files, want at least the catalogue's 3", len(files))
	}
	return files
}

// Every flow file of the repository that the loader takes, every step
// kind's example and every example of docs/flows.md (flows, steps,
// validators) is valid against the schema.
func TestSchemaAcceptsEveryFlowWeShip(t *testing.T) {
	flow := flowSchema(t, "")
	for _, path := range shippedFlows(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		err = flow.Validate(yamlValue(t, data))
		if err == nil {
			continue
		}
		// The lint's corpus of mistakes holds files the loader refuses
		// for their form too; the schema may refuse only those.
		e := env(t)
		e.Service = nil
		if _, problems := flows.Load([]flows.Source{{Name: path, Data: data}}, e); len(problems) == 0 {
			t.Errorf("%s: the loader takes it, the schema does not: %v", path, err)
		}
	}
	for _, k := range flows.Kinds() {
		if err := flow.Validate(yamlValue(t, []byte(k.Example))); err != nil {
			t.Errorf("example of %s: %v", k.Name, err)
		}
	}

	step := flowSchema(t, "#/$defs/step")
	validator := flowSchema(t, "#/$defs/validator")
	docs, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for i, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(docs), -1) {
		src := block[1]
		switch {
		case strings.Contains(src, "spec_version:"):
			counts["flow"]++
			if err := flow.Validate(yamlValue(t, []byte(src))); err != nil {
				t.Errorf("docs/flows.md, yaml block %d: %v", i+1, err)
			}
		case strings.HasPrefix(src, "validate:"):
			counts["validator"]++
			var v struct {
				Validate any `yaml:"validate"`
			}
			if err := yaml.Unmarshal([]byte(src), &v); err != nil {
				t.Fatal(err)
			}
			j, _ := json.Marshal(v.Validate)
			if err := validator.Validate(yamlValue(t, j)); err != nil {
				t.Errorf("docs/flows.md, yaml block %d: %v", i+1, err)
			}
		case strings.Contains(src, "\n    kind: "):
			var steps map[string]any
			if err := yaml.Unmarshal([]byte(src), &steps); err != nil {
				t.Fatal(err)
			}
			for id, s := range steps {
				counts["step"]++
				j, _ := json.Marshal(s)
				if err := step.Validate(yamlValue(t, j)); err != nil {
					t.Errorf("docs/flows.md, yaml block %d, step %s: %v", i+1, id, err)
				}
			}
		}
	}
	if counts["flow"] < len(flows.Kinds()) || counts["validator"] < 5 || counts["step"] < 1 {
		t.Errorf("docs/flows.md examples checked: %v; the docs lost examples or the test lost its way", counts)
	}
}

const schemaBase = `spec_version: 1
id: base
version: 1
institution: X
title: {es: T}
locales: [es]
start: a
vars:
  n: {max_length: 5}
steps:
  a:
    kind: menu
    text: {es: Elija}
    options:
      - label: {es: Uno}
        next: b
  b:
    kind: input
    text: {es: Número}
    validate: {kind: digits, min: 1, max: 5}
    retries: 2
    save: n
    next: c
  c:
    kind: call
    service: svc
    params: {n: n}
    save: {s: status}
    on: {ok: d, error: e}
  d:
    kind: end
    text: {es: "Listo {{s}}"}
    completed: true
  e:
    kind: branch
    cases:
      - when: 'n == "1"'
        next: f
    default: f
  f:
    kind: end
    text: call.error
`

// brokenFlows are structural mistakes: each the base flow with one
// replacement. The loader refuses every one (strict: as a warning, which
// `flows lint --strict` counts); so must the schema, so that an editor
// shows the mistake while it is typed.
var brokenFlows = []struct {
	name     string
	old, new string
	strict   bool // the loader warns; strict lint refuses
}{
	{name: "unknown flow field", old: "title: {es: T}", new: "title: {es: T}\ntitel: {es: T}"},
	{name: "unknown step field", old: "    retries: 2", new: "    retry: 2"},
	{name: "unknown option field", old: "        next: b", new: "        next: b\n        nxt: b"},
	{name: "unknown case field", old: "        next: f", new: "        next: f\n        then: f"},
	{name: "unknown variable declaration field", old: "{max_length: 5}", new: "{max_len: 5}"},
	{name: "unknown kind", old: "kind: menu", new: "kind: menuu"},
	{name: "step without kind", old: "    kind: branch\n", new: ""},
	{name: "missing flow field", old: "start: a\n", new: ""},
	{name: "missing step field", old: "    save: n\n", new: ""},
	{name: "missing option next", old: "        next: b\n", new: ""},
	{name: "missing case when", old: "      - when: 'n == \"1\"'\n        next: f", new: "      - next: f"},
	{name: "missing ok route", old: "on: {ok: d, error: e}", new: "on: {error: e}"},
	{name: "missing required validator argument", old: "{kind: digits, min: 1, max: 5}", new: "{kind: regex}"},
	{name: "version is text", old: "version: 1", new: "version: uno"},
	{name: "retries is text", old: "retries: 2", new: "retries: two"},
	{name: "completed is not a boolean", old: "completed: true", new: "completed: yes"},
	{name: "options are a mapping", old: "    options:\n      - label: {es: Uno}\n        next: b", new: "    options: {label: {es: Uno}, next: b}"},
	{name: "text is a list", old: "text: {es: Elija}", new: "text: [Elija]"},
	{name: "next is empty", old: "    next: c", new: "    next:"},
	{name: "locales is text", old: "locales: [es]", new: "locales: es"},
	{name: "validator argument of the wrong type", old: "min: 1, max: 5", new: "min: uno, max: 5"},
	{name: "empty menu", old: "    options:\n      - label: {es: Uno}\n        next: b", new: "    options: []"},
	{name: "unknown outcome", old: "on: {ok: d, error: e}", new: "on: {ok: d, slow: e}"},
	{name: "unknown validator", old: "{kind: digits, min: 1, max: 5}", new: "{kind: dni}"},
	{name: "unknown validator argument", old: "min: 1, max: 5", new: "mn: 1, max: 5"},
	{name: "unknown async", old: "    service: svc", new: "    service: svc\n    async: fast"},
	{name: "unsupported spec_version", old: "spec_version: 1", new: "spec_version: 2"},
	{name: "unknown level", old: "locales: [es]", new: "locales: [es]\nlevel: 3"},
	{name: "bad flow id", old: "id: base", new: "id: Base_Flow"},
	{name: "bad variable name", old: "params: {n: n}\n    save: {s: status}", new: "params: {n: n}\n    save: {1s: status}"},
	{name: "unknown locale", old: "locales: [es]", new: "locales: [es, fr]", strict: true},
	{name: "text in an unknown locale", old: "text: {es: Elija}", new: "text: {es: Elija, fr: Choisissez}", strict: true},
}

// The schema and the loader agree: the base file passes both, and each
// structural mistake fails both.
func TestSchemaRefusesWhatTheLoaderRefuses(t *testing.T) {
	flow := flowSchema(t, "")
	_, problems := flows.Load([]flows.Source{{Name: "base.yaml", Data: []byte(schemaBase)}}, env(t))
	for _, p := range problems {
		t.Errorf("base: %s", p)
	}
	if err := flow.Validate(yamlValue(t, []byte(schemaBase))); err != nil {
		t.Fatalf("base: %v", err)
	}
	for _, c := range brokenFlows {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(schemaBase, c.old) {
				t.Fatalf("the base has no %q", c.old)
			}
			src := strings.Replace(schemaBase, c.old, c.new, 1)
			_, problems := flows.Load([]flows.Source{{Name: "broken.yaml", Data: []byte(src)}}, env(t))
			if !problems.HasErrors() && !(c.strict && len(problems) > 0) {
				t.Errorf("the loader takes it: %v", problems)
			}
			if err := flow.Validate(yamlValue(t, []byte(src))); err == nil {
				t.Errorf("the schema takes it; the loader says %v", problems)
			}
		})
	}
}

// Every kind, field, validator and outcome the loader knows is in the
// schema with its docs, so that an editor completes and explains it.
func TestSchemaDescribesEveryKindAndField(t *testing.T) {
	var doc struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(flows.Schema(catalog(t).Locales()), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range flows.Kinds() {
		def, ok := doc.Defs["step."+k.Name]
		if !ok {
			t.Errorf("no schema for step kind %s", k.Name)
			continue
		}
		for _, f := range k.Fields {
			if p, ok := def.Properties[f.Name]; !ok || p.Description != f.Doc {
				t.Errorf("step kind %s: field %s has no description in the schema", k.Name, f.Name)
			}
		}
	}
}
