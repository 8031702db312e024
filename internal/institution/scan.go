package institution

import (
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/flows"
)

// flowFacts are what the package checks need from a flow file: its id,
// level, and the services and flows its steps name, with where. They are
// read from the YAML itself, so that a flow the flows lint refuses still
// gets its ownership checked, and the checks stay independent of how the
// engine models steps.
type flowFacts struct {
	file     string
	id       string
	idPos    flows.Pos
	inst     string // its institution: field, with where
	instPos  flows.Pos
	level    int
	services []ref
	gotos    []ref
}

// scanned are the facts of one package's files that composing checks.
// A package's files do not change once read, so neither do they.
type scanned struct {
	flows     []*flowFacts         // in the order of Package.Flows
	envRefs   []ref                // ${VAR} of the services file
	services  map[string]flows.Pos // service ids of the services file
	templates map[string]flows.Pos // template ids of the templates file
}

// scan returns p's facts, read the first time they are asked for.
func (p *Package) scan() *scanned {
	p.scanOnce.Do(func() {
		s := &scanned{}
		for _, src := range p.Flows {
			s.flows = append(s.flows, scanFlow(src))
		}
		if p.Services != nil {
			s.envRefs = envRefs(p.Services.Data)
			s.services = serviceKeys(p.Services.Data)
		}
		if p.Templates != nil {
			s.templates = mappingKeys(p.Templates.Data, "templates")
		}
		p.scanned = s
	})
	return p.scanned
}

type ref struct {
	id   string
	pos  flows.Pos
	path string
}

func scanFlow(src flows.Source) *flowFacts {
	f := &flowFacts{file: src.Name}
	var doc yaml.Node
	if yaml.Unmarshal(src.Data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return f
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "id":
			f.id, f.idPos = v.Value, pos(v)
		case "institution":
			f.inst, f.instPos = v.Value, pos(v)
		case "level":
			f.level, _ = strconv.Atoi(v.Value)
		case "steps":
			if v.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				sid, step := v.Content[j].Value, v.Content[j+1]
				if step.Kind != yaml.MappingNode {
					continue
				}
				kind := ""
				for n := 0; n+1 < len(step.Content); n += 2 {
					if step.Content[n].Value == "kind" {
						kind = step.Content[n+1].Value
					}
				}
				for n := 0; n+1 < len(step.Content); n += 2 {
					key, val := step.Content[n].Value, step.Content[n+1]
					if val.Kind != yaml.ScalarNode {
						continue
					}
					r := ref{id: val.Value, pos: pos(val), path: "steps." + sid + "." + key}
					switch {
					case key == "service":
						f.services = append(f.services, r)
					case key == "flow" && kind == "goto":
						f.gotos = append(f.gotos, r)
					}
				}
			}
		}
	}
	return f
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// envRefs finds the ${VAR} a services file names, with where.
func envRefs(data []byte) []ref {
	var out []ref
	line, col := 1, 1
	lineStart := 0
	for _, m := range envRef.FindAllSubmatchIndex(data, -1) {
		for i := lineStart; i < m[0]; i++ {
			if data[i] == '\n' {
				line++
				lineStart = i + 1
			}
		}
		col = m[0] - lineStart + 1
		out = append(out, ref{id: string(data[m[2]:m[3]]), pos: flows.Pos{Line: line, Col: col}})
	}
	return out
}

// serviceKeys finds where each service id of a services file is written.
func serviceKeys(data []byte) map[string]flows.Pos { return mappingKeys(data, "services") }

// mappingKeys finds where each key of the top-level mapping field is written.
func mappingKeys(data []byte, field string) map[string]flows.Pos {
	out := map[string]flows.Pos{}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return out
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != field || root.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		s := root.Content[i+1]
		for j := 0; j+1 < len(s.Content); j += 2 {
			out[s.Content[j].Value] = pos(s.Content[j])
		}
	}
	return out
}
