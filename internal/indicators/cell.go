package indicators

import (
	"strconv"
	"strings"
	"time"
)

// Dims are the coordinates of a count. Nothing in them names a citizen:
// the flow and its institution, the channel and carrier the conversation
// came through, and the language it was held in.
type Dims struct {
	Flow, Institution, Channel, Carrier, Locale string
}

// Cell is one count: a day (in the office's time zone, YYYY-MM-DD), the
// dims and what is counted (one of the metric names below).
type Cell struct {
	Day    string
	Dims   Dims
	Metric string
}

// Metric names. Those with a suffix carry it after a colon:
// "abandoned:pick_slot", "rating:4", "hops:7", "secs:60".
const (
	MetricStarted   = "started"   // a conversation started in the flow
	MetricCompleted = "completed" // it reached an end step the flow counts as completed
	MetricEnded     = "ended"     // it reached any other end (or failed)
	MetricAbandoned = "abandoned" // :step — left mid-flow at step
	MetricHops      = "hops"      // :bucket — hops a completed conversation took
	MetricSeconds   = "secs"      // :bucket — seconds a completed conversation took
	MetricRating    = "rating"    // :score (1–5)
	MetricReminder  = "reminder"  // :sent | :confirmed | :cancelled
	MetricCall      = "call"      // :service:outcome — a back-end call (dims: the service's institution only)
)

// Reminder events, for Counter.Reminder.
const (
	ReminderSent      = "sent"
	ReminderConfirmed = "confirmed"
	ReminderCancelled = "cancelled"
)

// hopBuckets and secondBuckets are the upper bounds of the histograms the
// medians are read from: exact up to a dozen hops, then coarser.
var (
	hopBuckets    = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 30, 50}
	secondBuckets = []int{5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600, 7200}
)

// bucket is the label of the first bound not below v; past the last, "+".
func bucket(bounds []int, v int) string {
	for _, b := range bounds {
		if v <= b {
			return strconv.Itoa(b)
		}
	}
	return "+"
}

// sep separates the parts of a cell in a Redis hash field. Values never
// hold it (clean replaces it), so a field always splits back into the
// same parts.
const sep = "\x1f"

func clean(s string) string {
	if strings.Contains(s, sep) {
		return strings.ReplaceAll(s, sep, " ")
	}
	return s
}

// field is the hash field of a cell within its day.
func (c Cell) field() string {
	d := c.Dims
	return clean(d.Flow) + sep + clean(d.Institution) + sep + clean(d.Channel) + sep + clean(d.Carrier) + sep + clean(d.Locale) + sep + c.Metric
}

// parseField reads a field back; ok is false for one this version did
// not write.
func parseField(day, f string) (Cell, bool) {
	p := strings.SplitN(f, sep, 6)
	if len(p) != 6 {
		return Cell{}, false
	}
	return Cell{Day: day, Dims: Dims{Flow: p[0], Institution: p[1], Channel: p[2], Carrier: p[3], Locale: p[4]}, Metric: p[5]}, true
}

// DayLayout is how days are written.
const DayLayout = time.DateOnly

// Days lists the days from from to to, both included.
func Days(from, to time.Time) []string {
	var out []string
	for d := dayStart(from); !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(DayLayout))
	}
	return out
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
