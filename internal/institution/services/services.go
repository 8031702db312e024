// Package services parses the services files of institution packages with
// the back-end client's own parser, for institution.Compose, and merges
// them into the one registry the gateway calls through. It is apart from
// package institution so that the embedded catalogue, which composes the
// national menu, does not depend on the back-end client.
package services

import (
	"errors"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// Collector parses services files one by one and keeps what parsed.
type Collector struct {
	regs []*interop.Registry
}

// Parse is institution.Options.Services: it parses one package's file and
// returns its problems at their file:line:col.
func (c *Collector) Parse(src flows.Source, getenv func(string) (string, bool)) flows.Problems {
	reg, err := interop.ParseRegistry(src.Name, src.Data, getenv)
	if err == nil {
		c.regs = append(c.regs, reg)
		return nil
	}
	var out flows.Problems
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var ce *interop.ConfigError
		if errors.As(e, &ce) {
			out = append(out, flows.Problem{File: src.Name, Pos: flows.Pos{Line: max(ce.Line, 1), Col: max(ce.Column, 1)}, Path: ce.Path, Code: "services", Severity: flows.Error, Message: ce.Err.Error()})
			continue
		}
		out = append(out, flows.Problem{File: src.Name, Pos: flows.Pos{Line: 1, Col: 1}, Code: "services", Severity: flows.Error, Message: e.Error()})
	}
	return out
}

// Registry merges what parsed; a service declared twice is an error (the
// composition reports it with both files first).
func (c *Collector) Registry() (*interop.Registry, error) {
	return interop.Merge(c.regs...)
}
