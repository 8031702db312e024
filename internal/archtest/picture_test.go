package archtest

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// picture is the document whose Mermaid diagram draws the packages and
// the direction of their imports.
const picture = "../../docs/architecture.md"

// A diagram line is a node (`id["path"]`), an edge (`id --> id`), or
// Mermaid's own structure; anything else is refused so that what is drawn
// is always what is checked.
var (
	nodeLine = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_]*)\["([^"]+)"\]$`)
	edgeLine = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_]*) --> ([A-Za-z][A-Za-z0-9_]*)$`)
	keepLine = regexp.MustCompile(`^(flowchart|graph) [A-Z]{2}$|^subgraph |^end$|^%%|^classDef |^class |^style |^$`)
)

// diagram is the picture as drawn: the package (or "dir/..." group) of
// each node id, and the edges between ids.
type diagram struct {
	nodes map[string]string // id → package path, relative to the module
	edges map[[2]string]bool
}

// readDiagram reads the first mermaid block of the document.
func readDiagram(t *testing.T, path string) diagram {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := diagram{nodes: map[string]string{}, edges: map[[2]string]bool{}}
	in, done := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan() && !done; n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case !in && line == "```mermaid":
			in = true
		case !in:
		case line == "```":
			done = true
		case nodeLine.MatchString(line):
			m := nodeLine.FindStringSubmatch(line)
			if old, ok := d.nodes[m[1]]; ok && old != m[2] {
				t.Errorf("%s:%d: node %s is %q and %q", path, n, m[1], old, m[2])
			}
			d.nodes[m[1]] = m[2]
		case edgeLine.MatchString(line):
			m := edgeLine.FindStringSubmatch(line)
			d.edges[[2]string{m[1], m[2]}] = true
		case keepLine.MatchString(line):
		default:
			t.Errorf("%s:%d: %q: write one node (id[\"package\"]) or one edge (a --> b) per line", path, n, line)
		}
	}
	if !done {
		t.Fatalf("%s: no closed ```mermaid block", path)
	}
	for e := range d.edges {
		for _, id := range e {
			if _, ok := d.nodes[id]; !ok {
				t.Errorf("%s: edge %s --> %s: node %s is not declared as %s[\"package\"]", path, e[0], e[1], id, id)
			}
		}
	}
	return d
}

// TestArchitecturePicture keeps docs/architecture.md's diagram true: every
// node is a package of the module (or "dir/..." for every package under
// dir), every arrow is an import that exists, and every import between
// two packages drawn is an arrow. A package not drawn (cmd/ventanilla,
// test helpers, small utilities) is not checked.
func TestArchitecturePicture(t *testing.T) {
	module, pkgs := list(t)
	d := readDiagram(t, picture)
	if len(d.nodes) == 0 {
		t.Fatalf("%s: the diagram draws no package", picture)
	}
	rel := func(p string) string { return strings.TrimPrefix(p, module+"/") }

	// node maps a package to the node it is drawn as: its own, else the
	// closest "dir/..." group above it.
	node := func(p string) (string, bool) {
		best, bestLen := "", -1
		for id, path := range d.nodes {
			switch {
			case path == p:
				return id, true
			case match(path, p) && len(path) > bestLen:
				best, bestLen = id, len(path)
			}
		}
		return best, bestLen >= 0
	}

	drawn := map[string]bool{}
	imports := map[[2]string][]string{} // edge between nodes → the imports behind it
	for _, p := range pkgs {
		from, ok := node(rel(p.ImportPath))
		if !ok {
			continue
		}
		drawn[from] = true
		for _, q := range p.Imports {
			if !strings.HasPrefix(q, module+"/") {
				continue
			}
			to, ok := node(rel(q))
			if !ok || to == from {
				continue
			}
			e := [2]string{from, to}
			imports[e] = append(imports[e], rel(p.ImportPath)+" imports "+rel(q))
		}
	}

	for id, path := range d.nodes {
		if !drawn[id] {
			t.Errorf("%s: node %s[%q] is no package of the module", picture, id, path)
		}
	}
	for e := range d.edges {
		if len(imports[e]) == 0 {
			t.Errorf("%s: %s --> %s (%s to %s) is drawn, but no such import exists: remove the arrow",
				picture, e[0], e[1], d.nodes[e[0]], d.nodes[e[1]])
		}
	}
	for e, why := range imports {
		if !d.edges[e] {
			slices.Sort(why)
			t.Errorf("%s: %s: draw %s --> %s", picture, strings.Join(why, ", "), e[0], e[1])
		}
	}
	if t.Failed() {
		var all []string
		for e := range imports {
			all = append(all, fmt.Sprintf("    %s --> %s", e[0], e[1]))
		}
		slices.Sort(all)
		t.Logf("the arrows between the packages drawn, as the imports are today:\n%s", strings.Join(all, "\n"))
	}
}
