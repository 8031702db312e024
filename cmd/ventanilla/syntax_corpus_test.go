package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// syntaxWant is the expectation a corpus file opens with:
// "# want: LINE:COL words of the message".
var syntaxWant = regexp.MustCompile(`^# want: (\d+:\d+) (.+)\n`)

// TestSyntaxCorpus puts each broken file of testdata/syntax/KIND in the
// place of its kind — an institution package's manifest, flow, services,
// templates, system-message overrides or golden transcript, or the
// carriers file — and runs what
// an author runs (flows lint, flows test, serve). The mistake is reported
// once, at the line and column where it is written, in words that say
// what is wrong; a YAML syntax error used to come out at the line where
// the mapping around it began, and at column 1.
func TestSyntaxCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/syntax/*/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, file := range files {
		kind := filepath.Base(filepath.Dir(file))
		t.Run(kind+"/"+filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m := syntaxWant.FindSubmatch(data)
			if m == nil {
				t.Fatalf("%s does not open with # want: LINE:COL message", file)
			}
			at, words := string(m[1]), string(m[2])
			path, out := runBroken(t, kind, data)
			var lines []string
			for _, l := range strings.Split(out, "\n") {
				if i := strings.LastIndex(l, path+":"); i >= 0 {
					lines = append(lines, l[i:])
				}
			}
			if len(lines) != 1 || !strings.HasPrefix(lines[0], path+":"+at+": ") || !strings.Contains(lines[0], words) {
				t.Errorf("want one problem at %s:%s saying %q; got:\n%s", path, at, words, out)
			}
			// The cause alone: no other file is blamed for it.
			if n := strings.Count(out, ": error: "); n > 1 {
				t.Errorf("%d errors, want the one of %s:\n%s", n, path, out)
			}
		})
	}
}

// runBroken puts data where a file of kind goes and runs the command that
// reads it; it returns the file's path as printed, and what was printed.
func runBroken(t *testing.T, kind string, data []byte) (path, out string) {
	t.Helper()
	if kind == "carriers" {
		path = filepath.Join(t.TempDir(), "carriers.yaml")
		writeText(t, path, string(data))
		_, errs := runServe(t, nil, "--carriers", path)
		return path, errs
	}
	dir := t.TempDir()
	newPackage(t, dir, "transito", nil)
	rel := map[string]string{
		"institution": "institution.yaml",
		"flow":        "flows/transito-consulta.yaml",
		"services":    "services.yaml",
		"templates":   "templates.yaml",
		"transcript":  "testdata/conversations/transito-consulta-es.yaml",
		"messages":    "messages.yaml",
	}[kind]
	if rel == "" {
		t.Fatalf("unknown kind %q", kind)
	}
	pkg := filepath.Join(dir, "transito")
	path = filepath.Join(pkg, rel)
	writeText(t, path, string(data))
	args := []string{"flows", "lint", pkg}
	if kind == "transcript" {
		args = []string{"flows", "test", pkg}
	}
	_, stdout, stderr := runCLI(t, "", args...)
	return path, stdout + stderr
}
