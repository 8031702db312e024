package indicators

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
)

// BenchmarkCountConversation is what counting costs a conversation on
// its hops: its start, its end and a rating.
func BenchmarkCountConversation(b *testing.B) {
	c := NewCounter(NewMemory(), Options{Interval: time.Hour})
	defer c.Close()
	d := Dims{Flow: "turnos", Institution: "Registro Civil", Channel: "ussd", Carrier: "africastalking", Locale: "es"}
	b.ReportAllocs()
	for b.Loop() {
		c.Started(d)
		c.Ended(d, End{Completed: true, Hops: 7, Duration: 50 * time.Second})
		c.Rated(d, 4)
	}
}

// BenchmarkDayFootprint measures what a country's day takes in Redis:
// 1 000 000 conversations over 12 services of 4 institutions, 8 carriers
// and 3 languages, each counted as the gateway counts it (a start, an
// end, a rating for one in five, reminders for turnos), then the bytes
// Redis reports for the day's hash (MEMORY USAGE). The conversations'
// number changes the counts, not the fields: the size follows the
// variety of cells.
func BenchmarkDayFootprint(b *testing.B) {
	client := redistest.Start(b)
	rnd := rand.New(rand.NewPCG(7, 7))
	carriers := [][2]string{{"ussd", "africastalking"}, {"ussd", "kannel-ussd"}, {"ussd", "hubtel"}, {"sms", "kannel-sms"},
		{"sms", "twilio"}, {"sms", "africastalking-sms"}, {"whatsapp", "whatsapp"}, {"chat", "telegram"}}
	locales := []string{"es", "es", "es", "es", "en", "qu"}
	steps := []string{"menu", "pick_office", "pick_slot", "book_cedula", "confirm", "otp", "ask_number", "pick_kind", "write"}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; b.Loop(); i++ {
		store := NewRedis(client, 0)
		c := NewCounter(store, Options{Interval: time.Hour, Now: func() time.Time { return now.AddDate(0, 0, i) }, Zone: time.UTC})
		for range 1_000_000 {
			svc := rnd.IntN(12)
			cr := carriers[rnd.IntN(len(carriers))]
			d := Dims{Flow: fmt.Sprintf("service-%d", svc), Institution: fmt.Sprintf("institution-%d", svc%4), Channel: cr[0], Carrier: cr[1], Locale: locales[rnd.IntN(len(locales))]}
			c.Started(d)
			switch r := rnd.IntN(10); {
			case r < 6:
				c.Ended(d, End{Completed: true, Hops: 3 + rnd.IntN(12), Duration: time.Duration(20+rnd.IntN(300)) * time.Second})
				if rnd.IntN(5) == 0 {
					c.Rated(d, 1+rnd.IntN(5))
				}
				if svc == 0 {
					c.Reminder(d, ReminderSent)
					c.Reminder(d, []string{ReminderConfirmed, ReminderCancelled, "none"}[rnd.IntN(3)])
				}
			case r < 9:
				c.Ended(d, End{Abandoned: true, Step: steps[rnd.IntN(len(steps))]})
			default:
				c.Ended(d, End{})
			}
			c.Call(d.Institution, fmt.Sprintf("service-%d.call", svc), []string{"ok", "ok", "ok", "not_found", "error"}[rnd.IntN(5)])
		}
		c.Close()
		key := KeyPrefix + now.AddDate(0, 0, i).Format(DayLayout)
		bytes, err := client.MemoryUsage(context.Background(), key, 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		fields := client.HLen(context.Background(), key).Val()
		b.ReportMetric(float64(bytes), "bytes/day")
		b.ReportMetric(float64(fields), "fields/day")
		b.ReportMetric(float64(bytes)*30/1e6, "MB/month")
	}
}
