package interop

import "fmt"

// Merge returns one registry holding the services of every registry given,
// as a gateway serving several institutions' services files needs. A
// service id declared twice is an error; the registries are not changed.
func Merge(regs ...*Registry) (*Registry, error) {
	out := &Registry{services: map[string]*Service{}}
	for _, r := range regs {
		if r == nil {
			continue
		}
		for _, id := range r.ids {
			if _, dup := out.services[id]; dup {
				return nil, fmt.Errorf("service %q is declared twice", id)
			}
			out.add(r.services[id])
		}
	}
	return out, nil
}
