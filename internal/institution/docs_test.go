package institution_test

import (
	"flag"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/institution"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
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
	testutil.GeneratedPart(t, docsPath, beginMark, endMark, institution.Reference(), *updateDocs)
}
