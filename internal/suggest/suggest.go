// Package suggest finds the name an author probably meant when they
// mistyped one: the "did you mean" of flow, validator and service errors.
package suggest

// Closest returns the candidate nearest to name when it is near enough to
// be a typo — at most two edits away, and fewer edits than name has
// letters — or "".
func Closest(name string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := Distance(name, c); d < bestD && d < max(len(name), 2) {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between two short identifiers;
// longer strings (over 64 bytes) count as far apart rather than cost time.
func Distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
