package sample

import "time"

// Office is a place where citizens are attended. Names stay within 18
// characters so a USSD menu line fits.
type Office struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	City string `json:"city"`
}

var offices = []Office{
	{ID: "quito-norte", Name: "Quito Norte", City: "Quito"},
	{ID: "quito-sur", Name: "Quito Sur", City: "Quito"},
	{ID: "guayaquil-centro", Name: "Guayaquil Centro", City: "Guayaquil"},
	{ID: "cuenca", Name: "Cuenca", City: "Cuenca"},
	{ID: "ambato", Name: "Ambato", City: "Ambato"},
}

func office(id string) (Office, bool) {
	for _, o := range offices {
		if o.ID == id {
			return o, true
		}
	}
	return Office{}, false
}

// Procedure is a trámite's state. Status is a code (received, in_review,
// ready, rejected); flows translate codes into the citizen's language, and
// Detail is the institution's short Spanish note.
type Procedure struct {
	Number string `json:"number"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

var procedures = map[string]Procedure{
	"1001": {Number: "1001", Status: "in_review", Detail: "En revisión técnica"},
	"1002": {Number: "1002", Status: "ready", Detail: "Listo para retirar en Quito Norte"},
	"1003": {Number: "1003", Status: "rejected", Detail: "Falta copia de la cédula"},
	"1004": {Number: "1004", Status: "received", Detail: "Recibido, en espera de revisión"},
}

// Slot is a bookable time at an office. ID is the date and time joined,
// in Ecuador's time.
type Slot struct {
	ID   string `json:"id"`
	Date string `json:"date"`
	Time string `json:"time"`
}

// ecuador is mainland Ecuador's time, UTC-5 all year; a fixed zone needs no
// tzdata on the host.
var ecuador = time.FixedZone("ECT", -5*60*60)

const (
	slotLayout  = "2006-01-02T15:04"
	workingDays = 3
)

// slotTimes are the day's appointment times at every office.
var slotTimes = []string{"09:00", "10:30", "14:00", "15:30"}

// window returns every slot of the next working days after now's date in
// Ecuador (Monday to Friday; holidays are not modelled), in order.
func window(now time.Time) []Slot {
	now = now.In(ecuador)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, ecuador)
	slots := make([]Slot, 0, workingDays*len(slotTimes))
	for n := 0; n < workingDays; {
		day = day.AddDate(0, 0, 1)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		n++
		date := day.Format(time.DateOnly)
		for _, t := range slotTimes {
			slots = append(slots, Slot{ID: date + "T" + t, Date: date, Time: t})
		}
	}
	return slots
}

// slotStart is when slot id begins, or false if id is not a slot id.
func slotStart(id string) (time.Time, bool) {
	t, err := time.ParseInLocation(slotLayout, id, ecuador)
	return t, err == nil
}
