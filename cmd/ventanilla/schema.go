package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

const schemaUsage = `usage: ventanilla flows schema > flow.schema.json

Prints the JSON Schema (draft 2020-12) of a flow file, for editors that
complete and check YAML against a schema (docs/flows.md, "Editors").
`

// cmdSchema prints the JSON Schema of a flow file.
func cmdSchema(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help":
			fmt.Fprint(stdout, schemaUsage)
			return 0
		}
		fmt.Fprintf(stderr, "flows schema takes no arguments, found %q\n\n%s", args[0], schemaUsage)
		return 2
	}
	cat, err := i18n.Load()
	if err != nil {
		fmt.Fprintf(stderr, "flows schema: %v\n", err)
		return 1
	}
	stdout.Write(flows.Schema(cat.Locales()))
	return 0
}

// flowSchema is the schema GET /v1/schema/flow.json serves, made once:
// it changes only with the binary. Its ETag lets editors poll it cheaply.
var flowSchema = sync.OnceValues(func() ([]byte, string) {
	cat, err := i18n.Load()
	if err != nil {
		panic(fmt.Sprintf("flows schema: the built-in system messages do not load: %v", err)) // embedded; the start loaded them already
	}
	body := flows.Schema(cat.Locales())
	sum := sha256.Sum256(body)
	return body, `"` + hex.EncodeToString(sum[:8]) + `"`
})

// serveFlowSchema serves the flow file schema of the running version, the
// one its loader reads, at the address the schema names itself by
// (flows.SchemaID): authors point their editor at their gateway.
func serveFlowSchema(c echo.Context) error {
	body, etag := flowSchema()
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Access-Control-Allow-Origin", "*") // editors on the web fetch it from another origin
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "application/schema+json", body)
}
