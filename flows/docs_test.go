package flows_test

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated reference in docs/flows.md")

const (
	docsPath  = "../docs/flows.md"
	beginMark = "<!-- BEGIN GENERATED REFERENCE: `make docs` rewrites what follows. -->\n"
	endMark   = "<!-- END GENERATED REFERENCE -->\n"
)

// The reference part of docs/flows.md is generated from the step kind
// descriptions; this test fails when it is stale (`make docs` fixes it).
func TestDocsReferenceIsFresh(t *testing.T) {
	testutil.GeneratedPart(t, docsPath, beginMark, endMark, flows.Reference(), *updateDocs)
}

var kindSection = regexp.MustCompile("(?s)#### `([a-z]+)`\n(.*?)```yaml\n(.*?)```")

// Every step kind has an example in docs/flows.md, and it passes the lint
// without a single problem.
func TestDocsHaveALintCleanExamplePerKind(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	examples := map[string]string{}
	for _, m := range kindSection.FindAllStringSubmatch(string(data), -1) {
		if _, seen := examples[m[1]]; !seen && strings.Contains(m[3], "kind: "+m[1]) {
			examples[m[1]] = m[3]
		}
	}
	var srcs []flows.Source
	for _, k := range flows.Kinds() {
		ex, ok := examples[k.Name]
		if !ok {
			t.Errorf("docs/flows.md has no example for step kind %q", k.Name)
			continue
		}
		srcs = append(srcs, flows.Source{Name: "docs/flows.md#" + k.Name, Data: []byte(ex)})
	}
	_, problems := flows.Load(srcs, env(t))
	for _, p := range problems {
		t.Error(p.String())
	}
}
