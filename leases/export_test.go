package leases

// Parked returns how many Next calls of zone wait parked on q.
func Parked(q *Queue, zone string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if z := q.zones[zone]; z != nil {
		return len(z.parked)
	}
	return 0
}
