package kanneltest

import (
	"fmt"
	"strings"
)

// confFile is a Kannel configuration file read as groups of "key = value"
// lines. The harness runs Kannel from the shipped files, changing only what
// a test machine must (ports, passwords, paths, where the links and the
// gateway are); every other setting is the shipped one.
type confFile struct {
	name   string
	groups []*confGroup
}

type confGroup struct {
	keys []string
	vals map[string]string
}

// parseConf reads Kannel's syntax: "key = value" lines, a group starting
// at each "group = …", # comments, values optionally in double quotes.
func parseConf(name, text string) (*confFile, error) {
	f := &confFile{name: name}
	var cur *confGroup
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: not key = value", name, i+1)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if k == "group" {
			cur = &confGroup{vals: map[string]string{}}
			f.groups = append(f.groups, cur)
		} else if cur == nil {
			return nil, fmt.Errorf("%s:%d: %s outside a group", name, i+1, k)
		}
		if _, dup := cur.vals[k]; dup {
			return nil, fmt.Errorf("%s:%d: %s twice in one group", name, i+1, k)
		}
		cur.keys = append(cur.keys, k)
		cur.vals[k] = v
	}
	return f, nil
}

// group returns the one group of kind whose keys have the values given in
// match (key, value, …); a value "" matches an absent key.
func (f *confFile) group(kind string, match ...string) (*confGroup, error) {
	var found []*confGroup
	for _, g := range f.groups {
		ok := g.vals["group"] == kind
		for i := 0; ok && i+1 < len(match); i += 2 {
			ok = g.vals[match[i]] == match[i+1]
		}
		if ok {
			found = append(found, g)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%s: %d groups %s %v, want one", f.name, len(found), kind, match)
	}
	return found[0], nil
}

func (g *confGroup) get(key string) string { return g.vals[key] }

// set replaces key's value, or adds the key.
func (g *confGroup) set(key, value string) {
	if _, ok := g.vals[key]; !ok {
		g.keys = append(g.keys, key)
	}
	g.vals[key] = value
}

func (f *confFile) String() string {
	var b strings.Builder
	b.WriteString("# Written by kanneltest from the shipped " + f.name + ".\n")
	for _, g := range f.groups {
		b.WriteString("\n")
		for _, k := range g.keys {
			fmt.Fprintf(&b, "%s = %s\n", k, quote(g.vals[k]))
		}
	}
	return b.String()
}

// quote writes a value the way Kannel reads it back: words (numbers,
// names, true) bare, anything else in double quotes, which the shipped
// files never put inside a value.
func quote(v string) string {
	word := v != "" && !strings.ContainsFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	})
	if word {
		return v
	}
	return `"` + v + `"`
}
