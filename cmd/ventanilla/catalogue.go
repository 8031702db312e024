package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/internal/institution"
)

// catalogueEntry is one live entry of GET /v1/catalogue.
type catalogueEntry struct {
	ID          string            `json:"id"` // institution/entry
	Institution catalogueInst     `json:"institution"`
	Title       institution.Text  `json:"title"`
	Category    catalogueCategory `json:"category"`
	Description institution.Text  `json:"description,omitempty"`
	Channels    []string          `json:"channels"`
	Keywords    []string          `json:"keywords"`
	ShortCode   string            `json:"short_code,omitempty"`
	Languages   []string          `json:"languages"`
	Level       int               `json:"level"`
	Draft       bool              `json:"draft,omitempty"` // on the command line only
}

type catalogueInst struct {
	ID      string              `json:"id"`
	Name    institution.Text    `json:"name"`
	Contact institution.Contact `json:"contact"`
}

type catalogueCategory struct {
	ID    string           `json:"id"`
	Title institution.Text `json:"title"`
}

// catalogueBody is the document: the live entries in menu order and the
// figures portals and indicators use.
type catalogueBody struct {
	Entries      []catalogueEntry `json:"entries"`
	Count        int              `json:"count"`        // services offered
	Institutions int              `json:"institutions"` // institutions offering at least one
}

// catalogueDoc is the document as served, built once per load.
type catalogueDoc struct {
	body []byte
	etag string
}

// newCatalogueDoc lists every live entry of set; drafts are left out (they
// are not offered yet) unless asked for, as the institutions' own teams
// do on the command line. With --flows (no packages) the list is empty.
func newCatalogueDoc(set *institution.Set, drafts bool) *catalogueDoc {
	out := catalogueBody{Entries: []catalogueEntry{}}
	insts := map[string]bool{}
	if set != nil {
		for _, e := range set.Entries {
			if e.Draft() && !drafts {
				continue
			}
			m := e.Institution
			insts[m.ID] = true
			out.Entries = append(out.Entries, catalogueEntry{
				ID:          m.ID + "/" + e.ID,
				Institution: catalogueInst{ID: m.ID, Name: m.Name, Contact: m.Contact},
				Title:       e.Title,
				Category:    catalogueCategory{ID: e.Category.ID, Title: e.Category.Title},
				Description: e.Description,
				Channels:    e.Channels,
				Keywords:    nonNil(e.Keywords),
				ShortCode:   e.ShortCode,
				Languages:   e.Languages,
				Level:       e.Level,
				Draft:       e.Draft(),
			})
		}
	}
	out.Count, out.Institutions = len(out.Entries), len(insts)
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	return &catalogueDoc{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// catalogueMaxAge is how long a portal may keep the catalogue without
// asking again; after that a conditional request costs a 304.
const catalogueMaxAge = 300

// serveCatalogue answers GET /v1/catalogue, with an ETag so that a portal
// polling it gets 304 while nothing changed.
func (a *app) serveCatalogue(c echo.Context) error {
	doc := a.catalogue.Load()
	h := c.Response().Header()
	h.Set("ETag", doc.etag)
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", catalogueMaxAge))
	h.Set("Vary", "Accept-Encoding")
	if match := c.Request().Header.Get("If-None-Match"); match != "" {
		for _, tag := range strings.Split(match, ",") {
			if t := strings.TrimSpace(tag); t == doc.etag || t == "W/"+doc.etag || t == "*" {
				return c.NoContent(http.StatusNotModified)
			}
		}
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSONCharsetUTF8, doc.body)
}

// cmdCatalogue prints the catalogue the configured packages offer: a table,
// or with --json the document GET /v1/catalogue serves.
func cmdCatalogue(args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flagSet("catalogue", stderr, &c)
	asJSON := fs.Bool("json", false, "print the JSON document GET /v1/catalogue serves")
	if err := parseFlags(fs, args, &c); err != nil {
		return 2
	}
	msgs, err := c.catalog()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	b, problems, err := c.loadBundle(fs.Args(), msgs, os.LookupEnv, true, "", nil, nil)
	if err != nil {
		fmt.Fprintf(stderr, "catalogue: %v\n", err)
		return 1
	}
	if problems.HasErrors() {
		fmt.Fprintln(stderr, problems.Error())
		return 1
	}
	doc := newCatalogueDoc(b.set, !*asJSON)
	if *asJSON {
		stdout.Write(doc.body)
		return 0
	}
	var body catalogueBody
	_ = json.Unmarshal(doc.body, &body)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tTITLE\tCATEGORY\tCHANNELS\tKEYWORDS\tCODE\tLEVEL")
	for _, e := range body.Entries {
		if e.Draft {
			e.ID += " (draft)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", e.ID, e.Title.In("es"), e.Category.ID,
			strings.Join(e.Channels, ","), strings.Join(e.Keywords, ","), e.ShortCode, e.Level)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d services from %d institutions (drafts included)\n", body.Count, body.Institutions)
	return 0
}
