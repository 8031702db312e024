// Package quiet is the hours of the night when no message is sent to a
// citizen, in an office's time zone, and when a message due in them goes
// instead. It is a leaf: the engine's remind step and the reminders'
// scheduler share it.
package quiet

import (
	"fmt"
	"time"
)

// Hours is the hours of the night when no reminder is sent, in the
// offices' time zone: from Start to End, across midnight when Start is
// after End (21:00–07:00). The zero Hours has no quiet hours.
type Hours struct {
	Start, End time.Duration // since midnight
	Zone       *time.Location
}

// Default is 21:00 to 07:00.
func Default(zone *time.Location) Hours {
	return Hours{Start: 21 * time.Hour, End: 7 * time.Hour, Zone: zone}
}

// Parse reads "21:00-07:00"; "" and "none" are no quiet hours.
func Parse(s string, zone *time.Location) (Hours, error) {
	if s == "" || s == "none" {
		return Hours{Zone: zone}, nil
	}
	var h1, m1, h2, m2 int
	if n, err := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil || n != 4 ||
		h1 < 0 || h1 > 23 || h2 < 0 || h2 > 23 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 {
		return Hours{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM, such as 21:00-07:00, or none", s)
	}
	return Hours{Start: time.Duration(h1)*time.Hour + time.Duration(m1)*time.Minute,
		End: time.Duration(h2)*time.Hour + time.Duration(m2)*time.Minute, Zone: zone}, nil
}

// quiet reports whether t falls in the quiet hours, and if so when they
// began and when they end.
func (q Hours) quiet(t time.Time) (bool, time.Time, time.Time) {
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
func (q Hours) Due(event time.Time, before time.Duration, now time.Time) (time.Time, bool) {
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

// String writes q as Parse reads it.
func (q Hours) String() string {
	if q.Start == q.End {
		return "none"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", int(q.Start/time.Hour), int(q.Start%time.Hour/time.Minute),
		int(q.End/time.Hour), int(q.End%time.Hour/time.Minute))
}
