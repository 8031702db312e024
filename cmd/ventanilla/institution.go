package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ventanilla-gob/ventanilla/internal/institution"
)

// cmdInstitution runs `institution new` and `institution reference`.
func cmdInstitution(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: ventanilla institution new ID [--dir DIR] | ventanilla institution reference")
		return 2
	}
	switch args[0] {
	case "reference":
		fmt.Fprint(stdout, institution.Reference())
		return 0
	case "new":
		return cmdInstitutionNew(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "unknown command %q: want new or reference\n", args[0])
	return 2
}

var institutionID = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

func cmdInstitutionNew(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("institution new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "folder in which the package's folder is written")
	// The id comes first on the command line; flags may follow it.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	}
	if id == "" {
		fmt.Fprintln(stderr, "usage: ventanilla institution new ID [--dir DIR]")
		return 2
	}
	if !institutionID.MatchString(id) || id == "inicio" {
		fmt.Fprintf(stderr, "institution new: %q: an id is lower-case letters, digits and dashes, starting with a letter (such as transito or registro-civil)\n", id)
		return 2
	}
	root := filepath.Join(*dir, id)
	if _, err := os.Stat(root); err == nil {
		fmt.Fprintf(stderr, "institution new: %s exists; nothing written\n", root)
		return 1
	}
	files := scaffold(id)
	for _, f := range files {
		path := filepath.Join(root, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintf(stderr, "institution new: %v\n", err)
			return 1
		}
		if err := os.WriteFile(path, []byte(f.text), 0o644); err != nil {
			fmt.Fprintf(stderr, "institution new: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	fmt.Fprintf(stdout, "\nNext:\n  ventanilla flows lint %s\n  ventanilla flows test %s\n  ventanilla serve --packages %s\n", root, root, *dir)
	return 0
}

type scaffoldFile struct{ name, text string }

// scaffold is a package that lints clean and passes its own transcripts:
// one entry, one flow asking a number and calling one service, the
// services file with the institution's secrets, one system message in
// the institution's words, two transcripts, a README.
func scaffold(id string) []scaffoldFile {
	env := strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
	// A keyword is one word a citizen types, of at most 20 letters.
	keyword := strings.ToUpper(strings.ReplaceAll(id, "-", ""))
	if len(keyword) > 20 {
		keyword = keyword[:20]
	}
	r := strings.NewReplacer("ID_ENV", env, "ID_KEYWORD", keyword, "ID", id)
	files := []scaffoldFile{
		{institution.ManifestFile, `# The manifest of institution ID: who it is and the trámites it offers.
# Reference: docs/institutions.md (or: ventanilla institution reference).
institution: ID
name: {es: "Institución ID", en: "ID institution", qu: "ID institución"}
contact:
  email: soporte@ID.example.gob.ec

# Until draft is removed, only the testers see the entry, on every channel.
draft: true
testers:
  phones: ["+593991234567"]

# The institution's own category of the national menu. A category with one
# entry shows as that entry; to list the entries under a national category
# instead (tramites, identidad, transporte…), name it and drop this one.
categories:
  ID: {title: {es: "Institución ID", en: "ID institution", qu: "ID institución"}}

entries:
  consulta:
    title: {es: "Consulta ID", en: "ID enquiry", qu: "ID tapuy"}
    category: ID
    description:
      es: "El estado de una solicitud por su número."
      en: "The status of a request by its number."
      qu: "Shuk mañaypa imashina kashkata, yupaywan."
    keywords: [ID_KEYWORD]
    flow: ID-consulta
`},
		{"flows/ID-consulta.yaml", `# Asks a request number and says its status, from the institution's back-end.
spec_version: 1
id: ID-consulta
version: 1
institution: ID
title: {es: "Consulta ID", en: "ID enquiry", qu: "ID tapuy"}
locales: [es, en, qu]
start: ask_number

vars:
  number: {max_length: 10}
  status: {max_length: 30}

steps:
  ask_number:
    kind: input
    text:
      es: "Escriba el número de su solicitud:"
      en: "Type your request number:"
      qu: "Mañaypa yupayta killkay:"
    validate: {kind: digits, min: 3, max: 10}
    error:
      es: "El número tiene de 3 a 10 dígitos."
      en: "The number has 3 to 10 digits."
      qu: "Yupayka 3 manta 10 kama."
    retries: 3
    save: number
    next: lookup

  lookup:
    kind: call
    service: ID.status
    params: {number: number}
    save: {status: status}
    on: {ok: found, not_found: unknown, error: unavailable}

  found:
    kind: end
    text:
      es: "Solicitud {{number}}: {{status}}."
      en: "Request {{number}}: {{status}}."
      qu: "Mañay {{number}}: {{status}}."
  unknown:
    kind: end
    text:
      es: "No encontramos la solicitud {{number}}."
      en: "We did not find request {{number}}."
      qu: "Mana tarinchikchu {{number}} mañayta."
  unavailable:
    kind: end
    text: call.error
`},
		{institution.ServicesFile, `# The back-end services of institution ID. Ids start with "ID."; secrets
# come from environment variables starting with ID_ENV_.
services:
  ID.status:
    kind: rest
    base_url: ${ID_ENV_API_URL}
    method: GET
    path: /requests/{number}
    timeout: 2s
    auth: {type: api_key, header: X-Api-Key, value: "${ID_ENV_API_KEY}"}
`},
		{institution.MessagesFile, `# The system messages institution ID says in its own words, in its own
# flows only: validation errors, back-end outcomes, navigation... Every
# other message, and every locale left out, keeps the national text.
# The ids and the values each may show: docs/institutions.md.
messages:
  call.error:
    es: "Institución ID: no pudimos consultar su solicitud. Intente más tarde."
    en: "ID institution: we could not look up your request. Please try again later."
    qu: "ID institución: shuk pantay tiyarka. Kipaman kutin rurapay."
  # validate.required: {es: "Escriba el número de su solicitud."}
`},
		{institution.TranscriptsDir + "/ID-consulta-es.yaml", `# Started at the institution's own entry, so that other packages never change it.
name: ID enquiry
start: ID-consulta
locale: es
mocks:
  ID.status:
    - body: {number: "1002", status: "en revisión"}
hops:
  - send: ""
    screen: |-
      Escriba el número de su solicitud:
  - send: "12"
    screen: |-
      El número tiene de 3 a 10 dígitos.
      Escriba el número de su solicitud:
  - send: "1002"
    screen: |-
      Solicitud 1002: en revisión.
    end: true
`},
		{institution.TranscriptsDir + "/ID-consulta-error-en.yaml", `# The back-end fails: the flow says call.error in the institution's words
# (messages.yaml).
name: ID enquiry, back-end down
start: ID-consulta
locale: en
mocks:
  ID.status:
    - status: 500
hops:
  - send: ""
    screen: |-
      Type your request number:
  - send: "1002"
    screen: |-
      ID institution: we could not look up your request. Please try again later.
    end: true
`},
		{"README.md", `# Package of institution ID

This folder is everything the national window needs to offer ID's trámites
on USSD, SMS, WhatsApp and Telegram:

| file | what it is |
|---|---|
| ` + "`institution.yaml`" + ` | the manifest: who the institution is and the entries of its trámites in the national menu |
| ` + "`flows/`" + ` | one file per flow (the conversation), ids ` + "`ID`" + ` or starting with ` + "`ID-`" + ` |
| ` + "`services.yaml`" + ` | the back-ends its flows call, ids starting with ` + "`ID.`" + ` |
| ` + "`messages.yaml`" + ` | the gateway's own texts (errors, navigation) said in its flows in its words; optional |
| ` + "`testdata/conversations/`" + ` | golden transcripts: what a phone must show, hop by hop |

Check it, and run its transcripts, before every release:

    ventanilla flows lint --strict .
    ventanilla flows test .

Its secrets are environment variables starting with ` + "`ID_ENV_`" + `
(here ` + "`ID_ENV_API_URL`" + ` and ` + "`ID_ENV_API_KEY`" + `); the gateway refuses to start while one
is unset. The entry is a draft: only the numbers under ` + "`testers`" + ` see it. Remove
` + "`draft: true`" + ` to publish it, then ask the operator to reload the package
(` + "`POST /admin/packages/ID/reload`" + `). See docs/institutions.md.
`},
	}
	for i := range files {
		files[i].name = r.Replace(files[i].name)
		files[i].text = r.Replace(files[i].text)
	}
	return files
}

// maxSamplePackages bounds demo --sample-packages.
const maxSamplePackages = 200

// samplePrefix starts the ids of generated packages: sample01, sample02…
const samplePrefix = "sample"

// writeSamplePackages writes n published packages of flowsEach flows each
// into dir — the scaffold's package, its flow copied under other ids — as
// many institutions would publish, to measure what they cost.
func writeSamplePackages(dir string, n, flowsEach int) error {
	for i := range n {
		id := fmt.Sprintf("%s%02d", samplePrefix, i+1)
		for _, f := range scaffold(id) {
			text := f.text
			if f.name == institution.ManifestFile {
				text = strings.Replace(text, "draft: true\n", "", 1)
			}
			path := filepath.Join(dir, id, filepath.FromSlash(f.name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				return err
			}
			if !strings.HasPrefix(f.name, institution.FlowsDir+"/") {
				continue
			}
			for j := 1; j < flowsEach; j++ {
				copyID := fmt.Sprintf("%s-consulta%d", id, j)
				other := strings.Replace(text, "id: "+id+"-consulta", "id: "+copyID, 1)
				if err := os.WriteFile(filepath.Join(dir, id, institution.FlowsDir, copyID+".yaml"), []byte(other), 0o644); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
