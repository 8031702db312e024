package notify_test

import (
	"net/http"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/notify"
)

// A template an institution owns is sent with that institution's token
// only: to another institution it does not exist, and the refusal says
// no more than for a template nobody declared. Templates nobody owns (the
// operator's templates file) stay open to every institution.
func TestTemplatesOwnedByAnInstitution(t *testing.T) {
	f := newFixture(t, func(o *notify.Options) {
		o.Owners = map[string]string{"tramite_listo": "registro_civil"}
	})
	if r := f.post(t, civilToken, listo); r.Code != http.StatusAccepted {
		t.Fatalf("the owner: %d %v", r.Code, r.Body)
	}
	r := f.post(t, iessToken, listo)
	if r.Code != http.StatusBadRequest || r.Body["field"] != "template" || r.Body["error"] != `unknown template "tramite_listo"` {
		t.Errorf("another institution: %d %v", r.Code, r.Body)
	}
	aviso := `{"to": "+593991234567", "template": "aviso", "params": {"texto": "Hola"}}`
	if r := f.post(t, iessToken, aviso); r.Code != http.StatusAccepted {
		t.Errorf("a template nobody owns: %d %v", r.Code, r.Body)
	}
}

// A misspelt template id is answered with the one meant, among the
// templates the institution may send: never another institution's.
func TestUnknownTemplateSuggestsOnlyTheInstitutions(t *testing.T) {
	f := newFixture(t, func(o *notify.Options) {
		o.Owners = map[string]string{"tramite_listo": "registro_civil"}
	})
	lsito := `{"to": "+593991234567", "template": "tramite_lsito", "params": {"numero": "1"}}`
	if r := f.post(t, civilToken, lsito); r.Code != http.StatusBadRequest || r.Body["error"] != `unknown template "tramite_lsito" (did you mean "tramite_listo"?)` {
		t.Errorf("the owner: %d %v", r.Code, r.Body)
	}
	if r := f.post(t, iessToken, lsito); r.Code != http.StatusBadRequest || r.Body["error"] != `unknown template "tramite_lsito"` {
		t.Errorf("another institution: %d %v", r.Code, r.Body)
	}
	aviso := `{"to": "+593991234567", "template": "avsio", "params": {"texto": "Hola"}}`
	if r := f.post(t, iessToken, aviso); r.Code != http.StatusBadRequest || r.Body["error"] != `unknown template "avsio" (did you mean "aviso"?)` {
		t.Errorf("a template nobody owns: %d %v", r.Code, r.Body)
	}
}
