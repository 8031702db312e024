package flows

import (
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr/conf"
)

// Functions lists, sorted, the functions flow expressions may call. It is
// read from the very options expressions are compiled and run with (the
// expression language's builtins less those the engine disables, such as
// now; the engine's own functions less the budget guards'), so that the
// lint and the list in docs/flows.md cannot drift from what runs.
func Functions() []string { return slices.Clone(functions()) }

var functions = sync.OnceValue(func() []string {
	c := conf.CreateNew()
	for _, opt := range guardedOptions {
		opt(c)
	}
	var names []string
	for name := range c.Builtins {
		if !c.Disabled[name] {
			names = append(names, name)
		}
	}
	for name := range c.Functions {
		// "$" functions are the budget guards', called by rewritten
		// expressions, never by authors.
		if !strings.HasPrefix(name, "$") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
})
