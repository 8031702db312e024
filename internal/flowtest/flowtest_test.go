package flowtest_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/flowtest"
)

var update = flag.Bool("update", false, "rewrite the transcripts' expected screens")

func measure(s *flows.Screen) int { return len([]rune(ussd.Paginate(s, 1<<20)[0])) }

// The catalogue's golden conversations, the same files `ventanilla flows
// test` runs.
func TestCatalogueConversations(t *testing.T) {
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	reg, problems := flows.Load(catalogue.Sources(), flows.Env{Messages: msgs, Measure: measure})
	if problems.HasErrors() {
		t.Fatal(problems)
	}
	files, _ := filepath.Glob("../../testdata/conversations/*.yaml")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	r := &flowtest.Runner{Flows: reg, Messages: msgs, Root: "inicio"}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tr, err := flowtest.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, fails, err := r.Run(context.Background(), tr)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := flowtest.Update(f, got); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, fl := range fails {
				t.Error(fl.String())
			}
		})
	}
}

// A misspelt key in a transcript stops it where it is written, with the
// key meant, the way every YAML file of the project reports problems.
func TestReadFileNamesAMisspeltKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, []byte("name: x\nhops:\n  - send: \"1\"\n    scren: Hola\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := flowtest.ReadFile(path)
	if want := path + `:4:5: unknown field "scren" (did you mean "screen"?)`; err == nil || err.Error() != want {
		t.Errorf("ReadFile: %v\nwant %s", err, want)
	}
}
