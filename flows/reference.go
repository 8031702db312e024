package flows

import (
	"fmt"
	"strings"

	"github.com/ventanilla-gob/ventanilla/flows/validate"
)

// Reference renders the flow language reference — flow fields, step kinds
// with their fields, events and examples, validators — from the same
// descriptions the loader and the lint use. docs/flows-reference.md is its
// output; a test fails when that file is stale.
func Reference() string {
	var b strings.Builder
	b.WriteString("## Reference\n\n")
	fmt.Fprintf(&b, "Generated from the step kinds' own files (`flows/step_*.go`, listed in `flows/spec.go`) and `flows/validate` for `spec_version: %d`.\n\n", SpecVersion)
	b.WriteString("### Flow fields\n\n")
	fieldTable(&b, FlowFields)
	b.WriteString("### Step kinds\n\n")
	b.WriteString("Every step has `kind` and may have `note` (a comment for other authors).\n\n")
	for _, k := range kinds {
		fmt.Fprintf(&b, "#### `%s`\n\n%s\n\n", k.Name, k.Doc)
		if k.Waits {
			b.WriteString("Waits for the citizen. ")
		} else {
			b.WriteString("Runs without waiting. ")
		}
		if len(k.Events) > 0 {
			fmt.Fprintf(&b, "Events: `%s`.\n\n", strings.Join(k.Events, "`, `"))
		} else {
			b.WriteString("No events: the flow ends here.\n\n")
		}
		fieldTable(&b, k.Fields)
		fmt.Fprintf(&b, "Example:\n\n```yaml\n%s```\n\n", k.Example)
	}
	b.WriteString("### Validators\n\n")
	b.WriteString("Used in the `validate` field of an `input` step. An empty answer never passes.\n\n")
	for _, v := range validate.Kinds() {
		fmt.Fprintf(&b, "#### `%s`\n\n%s\n\n", v.Name, v.Doc)
		if len(v.Args) > 0 {
			b.WriteString("| argument | type | required | default | meaning |\n|---|---|---|---|---|\n")
			for _, a := range v.Args {
				def := ""
				if a.Default != nil {
					def = fmt.Sprintf("`%v`", a.Default)
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", a.Name, a.Type, yesNo(a.Required), def, a.Doc)
			}
			b.WriteString("\n")
		}
		if v.Example != "" {
			fmt.Fprintf(&b, "```yaml\n%s\n```\n\n", strings.TrimRight(v.Example, "\n"))
		}
	}
	b.WriteString("### Expression functions\n\n")
	b.WriteString("Expressions may call these functions of the [expr language](https://expr-lang.org/docs/language-definition) " +
		"and no other: a call of any other name (`upperr(x)`, `sprintf(\"%d\", n)`) stops the flow from loading " +
		"with the name probably meant (`unknown-function`). There is no `now`, so that conversations replay exactly, " +
		"and no `sprintf`: build text with `+` and `string(n)`, or with the holes of a text (`{{n}}`). " +
		"The functions that build strings count against the bounds of [expressions](#expressions).\n\n")
	for i, name := range Functions() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "`%s`", name)
	}
	b.WriteString("\n")
	return b.String()
}

func fieldTable(b *strings.Builder, fields []FieldSpec) {
	b.WriteString("| field | type | required | meaning |\n|---|---|---|---|\n")
	for _, f := range fields {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", f.Name, f.Type, yesNo(f.Required), f.Doc)
	}
	b.WriteString("\n")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return ""
}
