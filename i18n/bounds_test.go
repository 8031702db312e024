package i18n_test

import (
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

// Validators give only the bounds a flow set; a one-sided bound must read
// naturally, never "<no value>".
func TestOneSidedBounds(t *testing.T) {
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range c.Locales() {
		for _, id := range []string{i18n.ValidateRange, i18n.ValidateLength} {
			for _, data := range []map[string]any{{"Min": int64(5)}, {"Max": int64(9)}, {"Min": int64(1), "Max": int64(9)}} {
				got := c.Format(loc, id, data)
				if strings.Contains(got, "no value") || strings.Contains(got, "{{") {
					t.Errorf("%s %s %v: %q", loc, id, data, got)
				}
			}
		}
	}
}
