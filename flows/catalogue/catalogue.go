// Package catalogue holds the flows that ship with Ventanilla — inicio,
// turnos, estado-tramite and buzon — and the services they call. They are
// embedded in the binary so that zero configuration serves them.
package catalogue

import (
	"embed"
	"io/fs"
	"sort"

	"github.com/ventanilla-gob/ventanilla/flows"
)

//go:embed *.yaml
var files embed.FS

// ServicesFile is the name of the services configuration among the embedded files.
const ServicesFile = "services.yaml"

// Sources returns the embedded flow files (everything but the services).
func Sources() []flows.Source {
	names, _ := fs.Glob(files, "*.yaml")
	sort.Strings(names)
	var out []flows.Source
	for _, n := range names {
		if n == ServicesFile {
			continue
		}
		data, _ := files.ReadFile(n)
		out = append(out, flows.Source{Name: "catalogue/" + n, Data: data})
	}
	return out
}

// Services returns the embedded services configuration.
func Services() []byte {
	data, _ := files.ReadFile(ServicesFile)
	return data
}
