package audit_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/audit"
)

var guayaquil = time.FixedZone("ECT", -5*3600)

func sample() audit.Record {
	return audit.Record{
		Time:          time.Date(2026, 11, 23, 9, 30, 15, 123456789, guayaquil),
		Kind:          audit.KindCall,
		Citizen:       "c_3f9a1c2e7b5d4a10",
		Channel:       "ussd",
		Carrier:       "africastalking",
		Flow:          "turnos",
		FlowVersion:   3,
		Step:          "pick_slot",
		Service:       "turnos.slots",
		Outcome:       "ok",
		CorrelationID: "550e8400-e29b-41d4-a716-446655440000",
		Duration:      123456789 * time.Nanosecond,
	}
}

func TestRecordJSON(t *testing.T) {
	r := sample()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"time":"2026-11-23T14:30:15.123456789Z","kind":"call","citizen":"c_3f9a1c2e7b5d4a10",` +
		`"channel":"ussd","carrier":"africastalking","flow":"turnos","flow_version":3,"step":"pick_slot",` +
		`"service":"turnos.slots","outcome":"ok","correlation_id":"550e8400-e29b-41d4-a716-446655440000",` +
		`"duration_ms":123.456789}`
	if string(b) != want {
		t.Errorf("line:\n got %s\nwant %s", b, want)
	}
	var back audit.Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Time.Equal(r.Time) || back.Time.Location() != time.UTC {
		t.Errorf("time = %v, want %v in UTC", back.Time, r.Time)
	}
	back.Time = r.Time
	if back != r {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, r)
	}
}

func TestRecordJSONOmitsEmptyFields(t *testing.T) {
	r := audit.Record{Time: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Kind: audit.KindOutcome, Flow: "inicio", Outcome: "abandoned"}
	b, _ := json.Marshal(r)
	if want := `{"time":"2026-11-23T00:00:00Z","kind":"outcome","flow":"inicio","outcome":"abandoned"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestRecordDurationsRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 999, time.Microsecond + 1, 4*time.Second - 1, 3*time.Minute + 7, 90 * 24 * time.Hour} {
		r := audit.Record{Time: time.Unix(0, 0).UTC(), Kind: audit.KindOutcome, Duration: d}
		b, _ := json.Marshal(r)
		var back audit.Record
		if err := json.Unmarshal(b, &back); err != nil || back.Duration != d {
			t.Errorf("%v: came back as %v (%v) from %s", d, back.Duration, err, b)
		}
	}
}

// A record has nowhere to put personal data; a field added to it must be
// added here, on purpose.
func TestRecordHasNoPersonalDataFields(t *testing.T) {
	var names []string
	for f := range reflect.TypeFor[audit.Record]().Fields() {
		names = append(names, f.Name)
	}
	want := []string{"Time", "Kind", "Institution", "Citizen", "Channel", "Carrier", "Flow", "FlowVersion", "Step", "Service", "Outcome", "CorrelationID", "Duration"}
	if !slices.Equal(names, want) {
		t.Errorf("Record fields = %v, want %v: review docs/privacy.md before adding one", names, want)
	}
}

func TestRecordValidate(t *testing.T) {
	ok := sample()
	if err := ok.Validate(); err != nil {
		t.Errorf("valid record: %v", err)
	}
	ok.Citizen = ""
	if err := ok.Validate(); err != nil {
		t.Errorf("record without a citizen: %v", err)
	}
	for name, r := range map[string]audit.Record{
		"phone as citizen":  {Kind: audit.KindCall, Citizen: "+593991234567"},
		"cedula as citizen": {Kind: audit.KindCall, Citizen: "1714307103"},
		"no kind":           {Citizen: "c_3f9a1c2e7b5d4a10"},
		"unknown kind":      {Kind: "login"},
	} {
		err := r.Validate()
		if !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
		if err != nil && r.Citizen != "" && strings.Contains(err.Error(), r.Citizen) {
			t.Errorf("%s: the error repeats the value: %v", name, err)
		}
	}
}
