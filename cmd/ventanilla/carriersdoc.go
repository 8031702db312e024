package main

import (
	"fmt"
	"regexp"
	"strings"
)

// carriersHelp is the environment section of `serve --help`.
func carriersHelp(list []carrierEntry) string {
	var b strings.Builder
	b.WriteString("\nCarriers (their credentials come from the environment only; docs/operations.md):\n")
	var always []string
	for _, c := range list {
		if len(c.env) == 0 {
			always = append(always, c.name)
		}
	}
	if len(always) > 0 {
		fmt.Fprintf(&b, "  %s: on, with no variables\n", strings.Join(always, ", "))
	}
	order := smsOrder(list)
	for _, c := range list {
		if len(c.env) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %s (%s, %s)", c.name, c.kind, c.title)
		for i, name := range order {
			if name == c.name {
				fmt.Fprintf(&b, ", SMS preference %d", i+1)
			}
		}
		b.WriteString("\n")
		for _, v := range c.env {
			traits := varTraits(v)
			if traits == "" {
				traits = "optional"
			}
			fmt.Fprintf(&b, "    %-30s %-17s %s\n", v.name, traits, plain(v.doc))
		}
	}
	return b.String()
}

// varTraits says whether a variable is required and a secret.
func varTraits(v envVar) string {
	var t []string
	if v.required {
		t = append(t, "required")
	}
	if v.secret {
		t = append(t, "secret")
	}
	return strings.Join(t, ", ")
}

var mdLink = regexp.MustCompile(`\[([^\]]+)\]\([^)]+\)`)

// plain is a doc line without its Markdown, for a terminal.
func plain(doc string) string {
	return strings.ReplaceAll(mdLink.ReplaceAllString(doc, "$1"), "`", "")
}
