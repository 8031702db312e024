package quiet_test

import (
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/quiet"
)

var guayaquil, _ = time.LoadLocation("America/Guayaquil")

func at(day, hh, mm int) time.Time { return time.Date(2026, 12, day, hh, mm, 0, 0, guayaquil) }

func TestQuietHours(t *testing.T) {
	q := quiet.Default(guayaquil)
	now := at(1, 9, 0)
	for _, tc := range []struct {
		name   string
		event  time.Time
		before time.Duration
		want   time.Time
		ok     bool
	}{
		{"in the day", at(3, 10, 0), 24 * time.Hour, at(2, 10, 0), true},
		{"before dawn: at the end of the night", at(3, 8, 0), 2 * time.Hour, at(3, 7, 0), true},
		{"a turno when the night ends: before it begins", at(3, 7, 0), 2 * time.Hour, at(2, 20, 59), true},
		{"late evening: at the end of the night", at(3, 10, 0), 12*time.Hour + 30*time.Minute, at(3, 7, 0), true},
		{"already past", at(1, 12, 0), 24 * time.Hour, at(0, 12, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := q.Due(tc.event, tc.before, now)
			if !got.Equal(tc.want) || ok != tc.ok {
				t.Errorf("Due(%v, %v) = %v, %v; want %v, %v", tc.event, tc.before, got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, err := quiet.Parse("21-7", guayaquil); err == nil {
		t.Error("Parse(21-7): no error")
	}
	if q2, err := quiet.Parse("22:30-06:00", guayaquil); err != nil || q2.Start != 22*time.Hour+30*time.Minute || q2.End != 6*time.Hour {
		t.Errorf("Parse: %+v %v", q2, err)
	}
	for _, s := range []string{"22:30-06:00", "none", "07:05-07:45"} {
		q, err := quiet.Parse(s, guayaquil)
		if err != nil || q.String() != s {
			t.Errorf("Parse(%q).String() = %q, %v", s, q.String(), err)
		}
	}
}
