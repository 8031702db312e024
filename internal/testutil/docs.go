package testutil

import (
	"os"
	"strings"
	"testing"
)

// GeneratedPart checks that the part of the document at path between the
// lines begin and end is body, as `make docs` writes it: with update set
// (the tests' -update-docs flag) it rewrites that part instead.
func GeneratedPart(t testing.TB, path, begin, end, body string, update bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers of its generated part", path)
	}
	want := doc[:i+len(begin)] + body + doc[j:]
	if update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s is stale: run `make docs`", path)
	}
}
