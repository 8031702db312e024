package main

import (
	"fmt"
	"regexp"
	"strings"
)

// carriersReference is the carriers' part of docs/operations.md, in
// Markdown, written from the registry (`make docs`; a test fails when the
// file is stale).
func carriersReference(list []carrierEntry) string {
	var b strings.Builder
	b.WriteString("| carrier | kind | `limit:` | variables |\n|---|---|---|---|\n")
	for _, c := range list {
		limit := "—"
		if c.limited() {
			limit = "yes"
		}
		vars := "— (on unless the carriers file disables it)"
		if len(c.env) > 0 {
			var names []string
			for _, v := range c.env {
				names = append(names, "`"+v.name+"`")
			}
			vars = strings.Join(names, ", ")
		}
		fmt.Fprintf(&b, "| `%s` | %s (%s) | %s | %s |\n", c.name, c.kind, c.title, limit, vars)
	}
	if order := smsOrder(list); len(order) > 0 {
		fmt.Fprintf(&b, "\nThe gateway's own SMS (late results, one-time codes, notifications) go out by the first of %s whose sender is on, in this order; a message one of them keeps failing fails over to the next.\n", codeList(order))
	}
	b.WriteString("\n| variable | carrier | | meaning |\n|---|---|---|---|\n")
	for _, c := range list {
		for _, v := range c.env {
			fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", v.name, c.name, varTraits(v), v.doc)
		}
	}
	return b.String()
}

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

func codeList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "`" + n + "`"
	}
	return strings.Join(quoted, ", ")
}

var mdLink = regexp.MustCompile(`\[([^\]]+)\]\([^)]+\)`)

// plain is a doc line without its Markdown, for a terminal.
func plain(doc string) string {
	return strings.ReplaceAll(mdLink.ReplaceAllString(doc, "$1"), "`", "")
}
