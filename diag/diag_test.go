package diag_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/diag"
)

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		p    diag.Problem
		want string
	}{
		{diag.Problem{File: "f.yaml", Pos: diag.Pos{Line: 12, Col: 3}, Path: "steps.a", Code: "duplicate-id", Severity: diag.Error, Message: `"a" is defined twice`},
			`f.yaml:12:3: steps.a: error: "a" is defined twice [duplicate-id]`},
		{diag.Problem{File: "f.yaml", Pos: diag.Pos{Line: 1, Col: 1}, Code: "yaml", Severity: diag.Warning, Message: "m"},
			`f.yaml:1:1: (file): warning: m [yaml]`},
		{diag.Problem{File: "s.yaml", Pos: diag.Pos{Line: 7, Col: 5}, Path: "services.a.method", Code: "x", Message: `unknown method "FETCH"`},
			`s.yaml:7:5: services.a.method: unknown method "FETCH"`},
		{diag.Problem{File: "s.yaml", Pos: diag.Pos{Line: 2}, Message: "did not find expected node content"},
			`s.yaml:2: did not find expected node content`},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestProblemsErrorLeavesWarningsOut(t *testing.T) {
	ps := diag.Problems{
		{File: "b", Pos: diag.Pos{Line: 1}, Message: "ungraded"},
		{File: "a", Pos: diag.Pos{Line: 2}, Severity: diag.Warning, Message: "w"},
		{File: "a", Pos: diag.Pos{Line: 1}, Severity: diag.Error, Message: "e"},
	}
	ps.Sort()
	if e, w := ps.Count(); e != 2 || w != 1 || !ps.HasErrors() {
		t.Errorf("Count = %d, %d", e, w)
	}
	if got, want := ps.Error(), "a:1: (file): error: e\nb:1: ungraded"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

const doc = `services:
  turnos.book:
    headers: &h
      X-Canal: ussd
    method: GET
  turnos.slots:
    headers: *h
    list: [a, {b: c}]
`

func TestFindFollowsAliasesAndDottedKeys(t *testing.T) {
	root, bad := diag.Parse("s.yaml", []byte(doc))
	if bad != nil {
		t.Fatal(bad)
	}
	for _, tc := range []struct {
		path      string
		line, col int // of the key (or list item)
		value     string
	}{
		{"services.turnos.book.method", 5, 5, "GET"},
		// Through the alias: found where the text is written.
		{"services.turnos.slots.headers.X-Canal", 4, 7, "ussd"},
		{"services.turnos.slots.list.1.b", 8, 16, "c"},
		{"services.turnos.slots.list.0", 8, 12, "a"},
	} {
		k, v, ok := diag.Find(root, tc.path)
		if !ok || k.Line != tc.line || k.Column != tc.col || v.Value != tc.value {
			t.Errorf("Find(%s) = %v %+v %+v", tc.path, ok, k, v)
		}
	}
	for _, path := range []string{"services.turnos", "services.turnos.book.nope", "services.turnos.slots.list.2", "x"} {
		if _, _, ok := diag.Find(root, path); ok {
			t.Errorf("Find(%s) found something", path)
		}
	}
}

func TestPairs(t *testing.T) {
	root, _ := diag.Parse("f.yaml", []byte("a: &x {k: 1}\nb: *x\na: 2\n[c]: 3\n<<: *x\n"))
	r := &diag.Report{File: "f.yaml"}
	var got []string
	r.Pairs(root, "top", nil, func(k, v *yaml.Node) {
		got = append(got, k.Value+"="+diag.Describe(v))
	})
	if strings.Join(got, " ") != "a=a mapping b=a mapping" {
		t.Errorf("pairs %q", got)
	}
	want := `f.yaml:3:1: top.a: key "a" appears twice (first at 1:1)
f.yaml:4:1: top: keys must be plain names
f.yaml:5:1: top: merge keys (<<) are not supported: write the fields out`
	if r.Problems.Error() != want {
		t.Errorf("problems\n%s\nwant\n%s", r.Problems.Error(), want)
	}
}

func TestSyntaxError(t *testing.T) {
	_, bad := diag.Parse("f.yaml", []byte("a: [\n"))
	if bad == nil || bad.String() != "f.yaml:1:4: this `[` is never closed; end the list with `]`, its items separated by `,`" {
		t.Errorf("Parse of broken YAML: %v", bad)
	}
	if root, bad := diag.Parse("f.yaml", []byte("# nothing\n")); root != nil || bad != nil {
		t.Errorf("comments only: %v %v", root, bad)
	}
}
