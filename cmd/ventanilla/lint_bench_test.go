package main

import (
	"io"
	"testing"
)

// BenchmarkLintCatalogue is `ventanilla flows lint` of the shipped
// catalogue, as an author runs it: read the package, compose the national
// menu, load, type-check and lint every flow. docs/performance.md gives
// its figure.
func BenchmarkLintCatalogue(b *testing.B) {
	for b.Loop() {
		if code := cmdLint(nil, io.Discard, io.Discard); code != 0 {
			b.Fatalf("flows lint exited %d", code)
		}
	}
}
