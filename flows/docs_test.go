package flows_test

import (
	"flag"
	"os"
	"regexp"
	"strconv"
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

// The complete flows that docs/flows.md shows outside its generated
// reference (a first flow, formatting) pass the lint without a single
// problem; the services they name are the reader's own.
func TestDocsFlowsAreLintClean(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	guide, _, _ := strings.Cut(string(data), beginMark)
	var srcs []flows.Source
	for i, block := range strings.Split(guide, "```yaml\n")[1:] {
		text, _, _ := strings.Cut(block, "```")
		if strings.HasPrefix(text, "spec_version:") {
			srcs = append(srcs, flows.Source{Name: "docs/flows.md#flow" + strconv.Itoa(i+1), Data: []byte(text)})
		}
	}
	if len(srcs) < 2 {
		t.Fatalf("%d flows in docs/flows.md, want at least 2", len(srcs))
	}
	e := env(t)
	e.Service = nil
	for _, src := range srcs {
		_, problems := flows.Load([]flows.Source{src}, e)
		for _, p := range problems {
			t.Error(p.String())
		}
	}
}
