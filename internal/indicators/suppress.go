package indicators

import "sort"

// withhold says which of the cells that add up to a published total must
// be withheld so that nobody can be singled out, even by subtracting the
// published cells from the total:
//
//   - every cell counting fewer than k (but some) is withheld;
//   - while the withheld cells add up to fewer than k, or are a single
//     cell, the smallest published cell is withheld too.
//
// So the total minus the published cells — which anyone can work out —
// is either nothing or at least k spread over at least two cells. A
// total counting fewer than k is withheld with all its cells (the second
// result). Cells counting nothing are published: a zero singles out no one.
func withhold(cells []int64, k int64) (hidden []bool, totalHidden bool) {
	hidden = make([]bool, len(cells))
	var total, sum int64
	n := 0
	for i, v := range cells {
		total += v
		if v > 0 && v < k {
			hidden[i] = true
			sum += v
			n++
		}
	}
	if total < k {
		for i := range hidden {
			hidden[i] = true
		}
		return hidden, total > 0
	}
	order := make([]int, len(cells))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cells[order[a]] < cells[order[b]] })
	for _, i := range order {
		if n == 0 || (sum >= k && n >= 2) {
			break
		}
		if hidden[i] || cells[i] == 0 {
			continue
		}
		hidden[i] = true
		sum += cells[i]
		n++
	}
	return hidden, false
}
