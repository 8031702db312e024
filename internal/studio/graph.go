package studio

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"unicode/utf8"
)

// The diagram is drawn here, as SVG in the page, from the graph `flows
// graph` prints: no script draws it, so it shows without JavaScript, reads
// to a screen reader from its text twin, and costs no library to vendor.
// Steps are laid out in rows by their distance from the start step.

type diagram struct {
	Flow          string
	Width, Height int
	Nodes         []node
	Edges         []edge
	Uncovered     []string
	Err           string
}

type node struct {
	ID         string
	X, Y, W, H int
	TX, TY     int // where the label goes
	Current    bool
	Covered    bool
	Link       template.URL
}

type edge struct {
	From, To, Label string
	Path            string
	LX, LY          int
}

const (
	nodeH   = 30
	rowGap  = 56
	colGap  = 18
	charW   = 8
	padX    = 12
	margin  = 10
	labelPx = 11
)

// diagram lays out flow's graph with step marked as the current one.
func (s *Studio) diagram(flow, step string, here bool) diagram {
	d := diagram{Flow: flow}
	cf := s.registry().Latest(flow)
	if cf == nil {
		d.Err = fmt.Sprintf("flow %q is not loaded", flow)
		return d
	}
	g, err := cf.Graph()
	if err != nil {
		d.Err = err.Error()
		return d
	}
	start, edges := parseGraph(g)
	ids := slices.Clone(cf.Order)
	for _, e := range edges {
		for _, id := range []string{e.From, e.To} {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	// Rows by breadth-first distance from the start; steps nothing leads
	// to go in a last row.
	row := map[string]int{}
	if start != "" {
		row[start] = 0
		queue := []string{start}
		for len(queue) > 0 {
			at := queue[0]
			queue = queue[1:]
			for _, e := range edges {
				if _, seen := row[e.To]; e.From == at && !seen {
					row[e.To] = row[at] + 1
					queue = append(queue, e.To)
				}
			}
		}
	}
	last := 0
	for _, r := range row {
		last = max(last, r)
	}
	for _, id := range ids {
		if _, ok := row[id]; !ok {
			row[id] = last + 1
		}
	}
	rows := map[int][]string{}
	for _, id := range ids {
		rows[row[id]] = append(rows[row[id]], id)
	}
	pos := map[string]*node{}
	for r := 0; r <= last+1; r++ {
		x := margin
		for _, id := range rows[r] {
			w := utf8.RuneCountInString(id)*charW + 2*padX
			n := node{ID: id, X: x, Y: margin + r*(nodeH+rowGap), W: w, H: nodeH}
			n.TX, n.TY = n.X+w/2, n.Y+nodeH/2+5
			n.Current = here && id == step
			n.Covered = s.covered[flow+"/"+id]
			if st := cf.Steps[id]; st != nil {
				n.Link = fileLink(cf.File, st.Pos.Line, st.Pos.Col)
			}
			if !n.Covered {
				d.Uncovered = append(d.Uncovered, id)
			}
			d.Nodes = append(d.Nodes, n)
			x += w + colGap
			d.Width = max(d.Width, x+margin)
		}
		if len(rows[r]) > 0 {
			d.Height = margin + (r+1)*(nodeH+rowGap)
		}
	}
	for i := range d.Nodes {
		pos[d.Nodes[i].ID] = &d.Nodes[i]
	}
	for _, e := range edges {
		a, b := pos[e.From], pos[e.To]
		if a == nil || b == nil {
			continue
		}
		x1, y1 := a.X+a.W/2, a.Y+a.H
		x2, y2 := b.X+b.W/2, b.Y
		var path string
		if b.Y > a.Y {
			mid := (y1 + y2) / 2
			path = fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1, mid, x2, mid, x2, y2)
		} else {
			// Back to an earlier row (or the same): around the right.
			x1, y1 = a.X+a.W, a.Y+a.H/2
			x2, y2 = b.X+b.W, b.Y+b.H/2
			bend := max(x1, x2) + 40
			path = fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, bend, y1, bend, y2, x2, y2)
			d.Width = max(d.Width, bend+margin)
		}
		e.Path = path
		e.LX, e.LY = (x1+x2)/2+4, (y1+y2)/2
		d.Edges = append(d.Edges, e)
	}
	return d
}

// parseGraph reads the start step and the edges of a Mermaid state
// diagram as `flows graph` prints it: "[*] --> start" and "a --> b: event".
func parseGraph(g string) (start string, edges []edge) {
	for _, line := range strings.Split(g, "\n") {
		from, rest, ok := strings.Cut(strings.TrimSpace(line), " --> ")
		if !ok {
			continue
		}
		to, label, _ := strings.Cut(rest, ":")
		to, label = strings.TrimSpace(to), strings.TrimSpace(label)
		if from == "[*]" {
			start = to
			continue
		}
		edges = append(edges, edge{From: from, To: to, Label: label})
	}
	return start, edges
}
