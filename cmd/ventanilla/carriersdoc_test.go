package main

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated carriers part of docs/operations.md")

const (
	operationsDoc = "../../docs/operations.md"
	carriersBegin = "<!-- BEGIN GENERATED CARRIERS: `make docs` rewrites what follows. -->\n"
	carriersEnd   = "<!-- END GENERATED CARRIERS -->\n"
)

// The carriers' part of docs/operations.md is written from the registry;
// this test fails when it is stale (`make docs` rewrites it).
func TestDocsCarriersAreFresh(t *testing.T) {
	testutil.GeneratedPart(t, operationsDoc, carriersBegin, carriersEnd, carriersReference(registry), *updateDocs)
}

// `serve --help` lists every variable of every carrier of the registry,
// and every carrier.
func TestServeHelpListsTheCarriers(t *testing.T) {
	code, _, errs := runCLI(t, "", "serve", "--help")
	if code != 0 {
		t.Errorf("serve --help: exit %d", code)
	}
	for _, c := range registry {
		if !strings.Contains(errs, c.name) {
			t.Errorf("serve --help does not name carrier %s", c.name)
		}
		for _, v := range c.env {
			if !strings.Contains(errs, "    "+v.name+" ") {
				t.Errorf("serve --help does not list %s of %s", v.name, c.name)
			}
		}
	}
}

// carriersReference is the carriers' part of docs/operations.md, in
// Markdown, written from the registry (`make docs`; a test fails when the
// file is stale).
func carriersReference(list []carrierEntry) string {
	var b strings.Builder
	b.WriteString("| carrier | kind | `limit:` | variables |\n|---|---|---|---|\n")
	for _, c := range list {
		limit := "—"
		if c.limited() {
			limit = "yes"
		}
		vars := "— (on unless the carriers file disables it)"
		if len(c.env) > 0 {
			var names []string
			for _, v := range c.env {
				names = append(names, "`"+v.name+"`")
			}
			vars = strings.Join(names, ", ")
		}
		fmt.Fprintf(&b, "| `%s` | %s (%s) | %s | %s |\n", c.name, c.kind, c.title, limit, vars)
	}
	if order := smsOrder(list); len(order) > 0 {
		fmt.Fprintf(&b, "\nThe gateway's own SMS (late results, one-time codes, notifications) go out by the first of %s whose sender is on, in this order; a message one of them keeps failing fails over to the next.\n", codeList(order))
	}
	b.WriteString("\n| variable | carrier | | meaning |\n|---|---|---|---|\n")
	for _, c := range list {
		for _, v := range c.env {
			fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", v.name, c.name, varTraits(v), v.doc)
		}
	}
	return b.String()
}

func codeList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "`" + n + "`"
	}
	return strings.Join(quoted, ", ")
}
