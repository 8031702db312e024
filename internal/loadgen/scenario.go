package loadgen

import (
	"fmt"
	"strings"

	"github.com/ventanilla-gob/ventanilla/internal/ecid"
)

// Step is one hop of a conversation: what the citizen sends and what the
// reply must say. In Send, {cedula} and {office} stand for the citizen's.
type Step struct {
	Send   string   // the answer typed; the first step of a script is the dial and sends ""
	Expect []string // fragments the screen must contain, all of them
	End    bool     // the screen must end the session (END); else it must continue (CON)
}

// Detour is a screen that may rightly come instead of the one a step
// expects, with the answer that puts the conversation back on its way: the
// language question on first contact, a slot taken by another citizen.
type Detour struct {
	Name string // counted in the report
	When string // a fragment of the screen
	Send string
}

// Script is one conversation, dialled with a fresh session id.
type Script struct {
	Name    string
	Steps   []Step
	Opening []Detour // screens the dial may bring besides the expected one
	Detours []Detour // screens any hop may bring
}

// Errand is what a citizen dials for: its scripts run in order, each in a
// session of its own, and one failing ends the errand.
type Errand struct {
	Name    string
	Weight  int
	Scripts []Script
}

// Scenario is the mix of errands simulated citizens run.
type Scenario struct {
	Name    string
	Doc     string
	Errands []Errand
}

// maxDetours bounds the detours taken within one step, so a screen that
// keeps coming back ends in an error instead of a loop.
const maxDetours = 12

// Citizen is one simulated caller: a distinct phone number and cédula.
type Citizen struct {
	Index  int
	Phone  string // +5939XXXXXXXX, a mobile number in Ecuador
	Cedula string // a cédula with a valid check digit
}

// MaxCitizens is how many distinct citizens NewCitizen can make.
const MaxCitizens = 1_000_000

// NewCitizen returns citizen i (0 ≤ i < MaxCitizens): the same number and
// cédula on every run, so the gateway remembers their language across runs.
func NewCitizen(i int) Citizen {
	d := fmt.Appendf(nil, "171%06d", i) // province 17 (Pichincha), third digit 1
	d = append(d, ecid.CheckDigit(d))
	return Citizen{Index: i, Phone: fmt.Sprintf("+59399%07d", i), Cedula: string(d)}
}

// fill puts the citizen's data into an answer.
func (c Citizen) fill(send string) string {
	if !strings.Contains(send, "{") {
		return send
	}
	return strings.NewReplacer("{cedula}", c.Cedula, "{office}", fmt.Sprint(1+c.Index%catalogueOffices)).Replace(send)
}

// The catalogue's Spanish screens, as the flows in flows/catalogue and the
// sample back-end in interop/sample write them.
const (
	catalogueOffices = 5 // the sample back-end's offices; {office} spreads citizens over them

	screenLanguage = "Elija su idioma"
	screenServices = "Ventanilla ciudadana"
	screenResume   = "Tiene un trámite sin terminar"
	screenHome     = "00. Inicio"
	screenTurnos   = "Reservar un turno"
	screenOffices  = "Elija la oficina"
	screenSlots    = "Elija fecha y hora"
	screenCedula   = "Escriba su número de cédula"
	screenConfirm  = "Confirme su turno"
	screenTaken    = "acaba de ocuparse"
	screenBooked   = "Turno reservado"
	screenThanks   = "Gracias"
	screenSeeYou   = "Le esperamos"
	screenMine     = "Sus turnos"
	screenAppt     = "Anular este turno"
	screenCancel   = "¿Anular el turno"
	screenCanceled = "anulado"
	screenTramite  = "Escriba el número de su trámite"
	screenReady    = "Trámite 1002: listo"
	screenBuzon    = "Buzón ciudadano"
)

// opening handles what the dial may bring: the language question on first
// contact, and the offer to go on with a conversation an earlier run cut
// short, which is taken ("1") and left for the home menu ("00"), since
// the state it was left in is unknown.
var opening = []Detour{
	{Name: "first contact", When: screenLanguage, Send: "1"},
	{Name: "resume offered", When: screenResume, Send: "1"},
	{Name: "home after resume", When: screenHome, Send: "00"},
}

var (
	// flood is the dial alone, never answered, whatever the first screen
	// (the language question for a number never seen).
	flood = Script{
		Name:  "flood",
		Steps: []Step{{Send: ""}},
	}
	browse = Script{
		Name:    "browse",
		Opening: opening,
		Steps: []Step{
			{Send: "", Expect: []string{screenServices}},
			{Send: "1", Expect: []string{screenTurnos}},
			{Send: "0", Expect: []string{screenServices}},
			{Send: "2", Expect: []string{screenTramite}},
			{Send: "00", Expect: []string{screenServices}},
			{Send: "3", Expect: []string{screenBuzon}},
			// Home before hanging up: a conversation left at the root menu
			// is not offered for resumption on the next dial.
			{Send: "00", Expect: []string{screenServices}},
		},
	}
	book = Script{
		Name:    "book",
		Opening: opening,
		Steps: []Step{
			{Send: "", Expect: []string{screenServices}},
			{Send: "1", Expect: []string{screenTurnos}},
			{Send: "1", Expect: []string{screenOffices}},
			{Send: "{office}", Expect: []string{screenSlots}},
			{Send: "1", Expect: []string{screenCedula}},
			{Send: "{cedula}", Expect: []string{screenConfirm, "{cedula}"}},
			// The booking, above the satisfaction question the first
			// time a number books (rated by the detour), or above the
			// thanks once it was asked within the period.
			{Send: "1", Expect: []string{screenSeeYou}, End: true},
		},
		// Another citizen may book the slot first: the flow says so and
		// offers the slots again, then asks the cédula and confirmation.
		Detours: []Detour{
			{Name: "slot taken", When: screenTaken, Send: "1"},
			{Name: "cédula again", When: screenCedula, Send: "{cedula}"},
			{Name: "confirm again", When: screenConfirm, Send: "1"},
			{Name: "rated the booking", When: screenBooked, Send: "5"},
		},
	}
	// cancel frees the slot book took, so the sample back-end's few slots
	// last a run of any length.
	cancel = Script{
		Name:    "cancel",
		Opening: opening,
		Steps: []Step{
			{Send: "", Expect: []string{screenServices}},
			{Send: "1", Expect: []string{screenTurnos}},
			{Send: "2", Expect: []string{screenCedula}},
			{Send: "{cedula}", Expect: []string{screenMine}},
			{Send: "1", Expect: []string{screenAppt}},
			{Send: "1", Expect: []string{screenCancel}},
			{Send: "1", Expect: []string{screenCanceled}, End: true},
		},
	}
	status = Script{
		Name:    "status",
		Opening: opening,
		Steps: []Step{
			{Send: "", Expect: []string{screenServices}},
			{Send: "2", Expect: []string{screenTramite}},
			{Send: "1002", Expect: []string{screenThanks}, End: true},
		},
		Detours: []Detour{{Name: "rated the status", When: screenReady, Send: "4"}},
	}
)

// Scenarios lists the built-in scenarios over the catalogue flows.
func Scenarios() []Scenario {
	return []Scenario{
		{
			Name:    "browse",
			Doc:     "menus only: Turnos, back, Estado de trámite, home, Buzón, home; never calls the back-end",
			Errands: []Errand{{Name: "browse", Weight: 1, Scripts: []Script{browse}}},
		},
		{
			Name:    "book",
			Doc:     "books a turno through the back-end, then cancels it in a second session",
			Errands: []Errand{{Name: "book", Weight: 1, Scripts: []Script{book, cancel}}},
		},
		{
			Name: "mixed",
			Doc:  "browse 5 : estado de trámite 3 : book and cancel 2",
			Errands: []Errand{
				{Name: "browse", Weight: 5, Scripts: []Script{browse}},
				{Name: "status", Weight: 3, Scripts: []Script{status}},
				{Name: "book", Weight: 2, Scripts: []Script{book, cancel}},
			},
		},
		{
			Name:    "flood",
			Doc:     "first hops only, never answered, each from the next of --citizens numbers: the flood admission control must absorb",
			Errands: []Errand{{Name: "flood", Weight: 1, Scripts: []Script{flood}}},
		},
	}
}

// Validate reports a scenario the runner cannot play.
func (s Scenario) Validate() error {
	total := 0
	for _, e := range s.Errands {
		if e.Weight <= 0 {
			return fmt.Errorf("scenario %q: errand %q: weight %d, want > 0", s.Name, e.Name, e.Weight)
		}
		if len(e.Scripts) == 0 {
			return fmt.Errorf("scenario %q: errand %q has no scripts", s.Name, e.Name)
		}
		for _, sc := range e.Scripts {
			if len(sc.Steps) == 0 || sc.Steps[0].Send != "" {
				return fmt.Errorf("scenario %q: script %q: the first step is the dial and sends \"\"", s.Name, sc.Name)
			}
		}
		total += e.Weight
	}
	if total == 0 {
		return fmt.Errorf("scenario %q has no errands", s.Name)
	}
	return nil
}
