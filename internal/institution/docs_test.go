package institution_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/institution"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated manifest reference in docs/institutions.md")

const (
	docsPath  = "../../docs/institutions.md"
	beginMark = "<!-- BEGIN GENERATED REFERENCE: `make docs` rewrites what follows. -->\n"
	endMark   = "<!-- END GENERATED REFERENCE -->\n"
)

// The manifest reference in docs/institutions.md is generated from the
// description the decoder uses; this test fails when it is stale (`make
// docs` fixes it).
func TestDocsReferenceIsFresh(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, beginMark), strings.Index(doc, endMark)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated reference markers", docsPath)
	}
	want := doc[:i+len(beginMark)] + institution.Reference() + doc[j:]
	if *updateDocs {
		if err := os.WriteFile(docsPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s is stale: run `make docs`", docsPath)
	}
}
