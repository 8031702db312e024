// Package gctune keeps Go's garbage collector from running many times a
// second while the live heap is small: it sets GOGC so that the heap may
// grow to a floor before a collection, and leaves Go's default (GOGC=100)
// once the live heap is half the floor or more. It never overrides a
// GOGC the operator set.
package gctune
