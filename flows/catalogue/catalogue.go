// Package catalogue holds the package that ships with Ventanilla: the
// national window's own trámites — turnos, estado-tramite and buzon — the
// services they call and the national categories. It is embedded in the
// binary so that zero configuration serves it; the national menu (inicio)
// is composed from it and from any other package loaded next to it.
package catalogue

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/institution"
)

//go:embed institution.yaml services.yaml flows/*.yaml
var files embed.FS

// Name is how problems and the package list name the embedded package.
const Name = "catalogue"

// ServicesFile is the name of the services configuration in the package.
const ServicesFile = institution.ServicesFile

// FS is the package's files.
func FS() fs.FS { return files }

// Package reads the embedded package.
func Package() *institution.Package {
	p, problems, err := institution.ReadFS(context.Background(), files, Name)
	if err != nil || problems.HasErrors() {
		panic(fmt.Sprintf("catalogue: the embedded package does not load: %v %v", err, problems))
	}
	return p
}

// Sources returns the catalogue's flows and the national menu composed
// from the catalogue alone: what tests and embedding programs run.
func Sources() []flows.Source {
	set, problems := institution.Compose([]*institution.Package{Package()}, institution.Options{
		Getenv: func(string) (string, bool) { return "http://127.0.0.1:1", true },
	})
	if problems.HasErrors() {
		panic(fmt.Sprintf("catalogue: the embedded package does not compose: %v", problems))
	}
	return set.Sources
}

// Services returns the package's services configuration.
func Services() []byte {
	data, _ := files.ReadFile(ServicesFile)
	return data
}
