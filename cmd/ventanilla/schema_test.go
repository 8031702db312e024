package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/flows"
)

// `flows schema` prints a draft 2020-12 schema that the flow of a new
// institution package (`institution new`) is valid against.
func TestFlowsSchemaValidatesTheScaffold(t *testing.T) {
	code, out, errs := runCLI(t, "", "flows", "schema")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(flows.SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(flows.SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range scaffold("transito") {
		if !strings.HasPrefix(f.name, "flows/") {
			continue
		}
		n++
		var v any
		if err := yaml.Unmarshal([]byte(f.text), &v); err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(v)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s: %v", f.name, err)
		}
	}
	if n == 0 {
		t.Fatal("the scaffold has no flow")
	}

	if code, _, _ := runCLI(t, "", "flows", "schema", "extra"); code != 2 {
		t.Errorf("flows schema extra: exit %d, want 2", code)
	}
	if code, out, _ := runCLI(t, "", "flows", "schema", "--help"); code != 0 || !strings.Contains(out, "JSON Schema") {
		t.Errorf("flows schema --help: exit %d\n%s", code, out)
	}
}

// The gateway serves the same schema at GET /v1/schema/flow.json, and
// answers 304 to an editor polling it with its ETag.
func TestFlowSchemaEndpoint(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", nil)
	srv, _ := packagesApp(t, dir, "")
	resp, err := http.Get(srv.URL + "/v1/schema/flow.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, cli, _ := runCLI(t, "", "flows", "schema")
	if resp.StatusCode != http.StatusOK || string(body) != cli {
		t.Fatalf("status %d; the body is not what flows schema prints:\n%.200s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/schema+json" {
		t.Errorf("Content-Type %q", ct)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/schema/flow.json", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("with its ETag: status %d, want 304", again.StatusCode)
	}
}
