package institution

import (
	"fmt"
	"strings"
)

// Reference returns the manifest reference in Markdown, from the same
// description the decoder uses (ManifestFields); docs/institutions.md
// embeds it between markers and a test keeps it fresh.
func Reference() string {
	var b strings.Builder
	b.WriteString("| field | type | required | meaning |\n|---|---|---|---|\n")
	var nested []Field
	for _, f := range ManifestFields {
		row(&b, "", f)
		if len(f.Fields) > 0 {
			nested = append(nested, f)
		}
	}
	for _, f := range nested {
		fmt.Fprintf(&b, "\n### `%s`\n\n", f.Name)
		b.WriteString("| field | type | required | meaning |\n|---|---|---|---|\n")
		for _, sub := range f.Fields {
			row(&b, "", sub)
		}
	}
	return b.String()
}

func row(b *strings.Builder, prefix string, f Field) {
	req := ""
	if f.Required {
		req = "yes"
	}
	fmt.Fprintf(b, "| `%s%s` | %s | %s | %s |\n", prefix, f.Name, f.Type, req, strings.ReplaceAll(f.Doc, "|", "\\|"))
}
