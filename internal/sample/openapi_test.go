package sample

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// openapi.yaml documents exactly the routes the handler serves, and every
// $ref in it resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	data, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
		Comps   map[string]map[string]map[string]any `yaml:"components"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Errorf("openapi: %q", doc.OpenAPI)
	}

	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if op["operationId"] == nil || op["responses"] == nil {
				t.Errorf("%s %s: no operationId or responses", method, path)
			}
		}
	}
	var served []string
	for pattern := range (&server{}).routes() {
		served = append(served, pattern)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("openapi.yaml documents\n  %q\nthe handler serves\n  %q", documented, served)
	}

	var node yaml.Node
	_ = yaml.Unmarshal(data, &node)
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; n.Kind == yaml.MappingNode && k.Value == "$ref" {
				parts := strings.Split(strings.TrimPrefix(v.Value, "#/components/"), "/")
				if len(parts) != 2 || doc.Comps[parts[0]][parts[1]] == nil {
					t.Errorf("line %d: $ref %q does not resolve", v.Line, v.Value)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&node)
}
