package flows

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// wantLine is an expected diagnostic written in a corpus file:
// "# want: LINE:COL code".
var wantLine = regexp.MustCompile(`(?m)^# want: (\d+:\d+ [a-z-]+)$`)

// TestLintCorpus lints each flow of testdata/lint, a typical author's
// mistake per file, and expects exactly the diagnostics the file lists
// at the top, each at its line and column.
func TestLintCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/lint/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, m := range wantLine.FindAllStringSubmatch(string(data), -1) {
				want = append(want, m[1])
			}
			_, ps := Load([]Source{{Name: file, Data: data}}, Env{})
			var got []string
			for _, p := range ps {
				got = append(got, fmt.Sprintf("%d:%d %s", p.Pos.Line, p.Pos.Col, p.Code))
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("got\n  %v\nwant\n  %v\nproblems:\n%v", got, want, ps)
			}
		})
	}
}
