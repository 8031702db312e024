package i18n_test

import (
	"flag"
	"testing"

	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated list of system messages in docs/institutions.md")

// The system messages an institution may override, listed in
// docs/institutions.md, are generated from the catalogue's own files; this
// test fails when the list is stale (`make docs` fixes it).
func TestDocsMessagesAreFresh(t *testing.T) {
	testutil.GeneratedPart(t, "../docs/institutions.md",
		"<!-- BEGIN GENERATED SYSTEM MESSAGES: `make docs` rewrites what follows. -->\n",
		"<!-- END GENERATED SYSTEM MESSAGES -->\n",
		i18n.Reference(), *updateDocs)
}
