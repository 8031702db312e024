package reminders

import (
	"fmt"
	"time"
)

// Quiet is the hours of the night when no reminder is sent, in the
// offices' time zone: from Start to End, across midnight when Start is
// after End (21:00–07:00). The zero Quiet has no quiet hours.
type Quiet struct {
	Start, End time.Duration // since midnight
	Zone       *time.Location
}

// DefaultQuiet is 21:00 to 07:00.
func DefaultQuiet(zone *time.Location) Quiet {
	return Quiet{Start: 21 * time.Hour, End: 7 * time.Hour, Zone: zone}
}

// ParseQuiet reads "21:00-07:00" ("" for none).
func ParseQuiet(s string, zone *time.Location) (Quiet, error) {
	if s == "" {
		return Quiet{Zone: zone}, nil
	}
	var h1, m1, h2, m2 int
	if n, err := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil || n != 4 ||
		h1 < 0 || h1 > 23 || h2 < 0 || h2 > 23 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 {
		return Quiet{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM, such as 21:00-07:00", s)
	}
	return Quiet{Start: time.Duration(h1)*time.Hour + time.Duration(m1)*time.Minute,
		End: time.Duration(h2)*time.Hour + time.Duration(m2)*time.Minute, Zone: zone}, nil
}

// quiet reports whether t falls in the quiet hours, and if so when they
// began and when they end.
func (q Quiet) quiet(t time.Time) (bool, time.Time, time.Time) {
	if q.Start == q.End || q.Zone == nil {
		return false, time.Time{}, time.Time{}
	}
	local := t.In(q.Zone)
	y, m, d := local.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, q.Zone)
	at := func(day time.Time, off time.Duration) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), int(off/time.Hour), int(off%time.Hour/time.Minute), 0, 0, q.Zone)
	}
	for _, day := range []time.Time{midnight.AddDate(0, 0, -1), midnight} {
		start := at(day, q.Start)
		endDay := day
		if q.End <= q.Start {
			endDay = day.AddDate(0, 0, 1)
		}
		end := at(endDay, q.End)
		if !t.Before(start) && t.Before(end) {
			return true, start, end
		}
	}
	return false, time.Time{}, time.Time{}
}

// Due is when a reminder of event, before ahead, is sent: event-before,
// unless that falls in the quiet hours — then at their end if that is
// still before the event, else just before they begin (a 2-hour reminder
// of an 08:00 turno goes at 07:00; of a 07:00 one, at 20:59 the evening
// before). ok is false when the time has passed (or passes in the quiet
// hours): the reminder is not worth sending.
func (q Quiet) Due(event time.Time, before time.Duration, now time.Time) (time.Time, bool) {
	due := event.Add(-before)
	if in, start, end := q.quiet(due); in {
		if end.Before(event) {
			due = end
		} else {
			due = start.Add(-time.Minute)
		}
	}
	if due.Before(now) {
		return due, false
	}
	return due, true
}
