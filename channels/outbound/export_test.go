package outbound

// Sweep runs the memory queue's retention sweep now.
func Sweep(q *Memory) { q.sweep() }
