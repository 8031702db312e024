package interop_test

import (
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/interop"
)

func TestMerge(t *testing.T) {
	a := interop.NewRegistry(interop.Service{ID: "a.one", BaseURL: "http://127.0.0.1:1", Path: "/x"})
	b := interop.NewRegistry(interop.Service{ID: "b.one", BaseURL: "http://127.0.0.1:1", Path: "/y"})
	m, err := interop.Merge(a, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.IDs(), ","); got != "a.one,b.one" {
		t.Fatalf("ids %s", got)
	}
	if _, err := interop.Merge(a, a); err == nil || !strings.Contains(err.Error(), `"a.one" is declared twice`) {
		t.Fatalf("duplicate: %v", err)
	}
}
