package catalogue_test

import (
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/interop"
)

func measure(s *flows.Screen) int { return len([]rune(ussd.Paginate(s, 1<<20)[0])) }

// The catalogue ships lint-clean: no errors and no warnings, in strict terms.
func TestCatalogueIsLintClean(t *testing.T) {
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	services, err := interop.ParseRegistry("services.yaml", catalogue.Services(), func(string) (string, bool) { return "http://127.0.0.1:1", true })
	if err != nil {
		t.Fatal(err)
	}
	env := flows.Env{Messages: msgs, Measure: measure, Service: func(id string) bool { _, ok := services.Lookup(id); return ok }}
	reg, problems := flows.Load(catalogue.Sources(), env)
	for _, p := range problems {
		t.Error(p.String())
	}
	for _, id := range []string{"inicio", "turnos", "estado-tramite", "buzon"} {
		if reg.Latest(id) == nil {
			t.Errorf("flow %q not loaded", id)
		}
	}
}
