package sample

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Options are the sample's seams. Zero values give the real thing.
type Options struct {
	Now   func() time.Time // clock for the slot window; default time.Now
	Codes func() string    // appointment codes; default "T-" and 5 random characters
	Store Store            // default NewMemoryStore(); OpenStore for one that survives restarts

	// Fault injection, for tests and demos of the gateway's resilience.
	// Latency delays every answer (a client that gives up ends the wait).
	// FailureRate, from 0 to 1, is the share of requests answered 503
	// {"error":"injected_failure"} instead, drawn with Rand (default
	// math/rand/v2's Float64). Per request, the headers X-Sample-Latency
	// (a duration such as "2s") and X-Sample-Fail (a status from 400 to
	// 599) do the same for that request alone.
	Latency     time.Duration
	FailureRate float64
	Rand        func() float64
}

// Headers that inject faults into one request.
const (
	HeaderLatency = "X-Sample-Latency"
	HeaderFail    = "X-Sample-Fail"
)

// New returns the sample back-end as a handler. Serve it with http.Server
// (as `ventanilla demo` does) or httptest.NewServer:
//
//	srv := httptest.NewServer(sample.New(sample.Options{}))
//	defer srv.Close()
func New(opts Options) http.Handler {
	s := &server{now: opts.Now, codes: opts.Codes, store: opts.Store, mux: http.NewServeMux(),
		latency: opts.Latency, failureRate: opts.FailureRate, rand: opts.Rand}
	if s.rand == nil {
		s.rand = mathrand.Float64
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.codes == nil {
		s.codes = RandomCode
	}
	if s.store == nil {
		s.store = NewMemoryStore()
	}
	s.keys = &idempotency{keys: map[string]*keyed{}, now: s.now}
	for pattern, h := range s.routes() {
		s.mux.HandleFunc(pattern, h)
	}
	return s
}

// Limits on what a request may carry.
const (
	maxRequestBody = 16 << 10
	maxTicketText  = 500 // characters
)

type server struct {
	now   func() time.Time
	codes func() string
	store Store
	mux   *http.ServeMux

	latency     time.Duration
	failureRate float64
	rand        func() float64

	keys *idempotency
}

// routes is the sample's API; openapi.yaml documents exactly these (a test
// holds them together).
func (s *server) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /offices":                      s.listOffices,
		"GET /offices/{id}/slots":           s.listSlots,
		"POST /appointments":                s.book,
		"GET /appointments":                 s.listAppointments,
		"GET /appointments/{code}":          s.getAppointment,
		"POST /appointments/{code}/cancel":  s.settle("cancelled", Store.Cancel),
		"POST /appointments/{code}/confirm": s.settle("confirmed", Store.Confirm),
		"GET /procedures/{number}":          s.getProcedure,
		"POST /tickets":                     s.createTicket,
	}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.inject(w, r) {
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		// No route: net/http's own 404 or 405, answered in JSON like every
		// other error of this API.
		w = &muxErrorWriter{ResponseWriter: w}
	}
	s.keys.serve(w, r, s.mux)
}

// inject applies the configured and requested faults. It reports whether
// the request goes on to its handler.
func (s *server) inject(w http.ResponseWriter, r *http.Request) bool {
	delay := s.latency
	if v := r.Header.Get(HeaderLatency); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Minute {
			writeError(w, http.StatusBadRequest, "invalid_sample_latency")
			return false
		}
		delay = d
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false // the client gave up; nobody reads an answer
		}
	}
	if v := r.Header.Get(HeaderFail); v != "" {
		status, err := strconv.Atoi(v)
		if err != nil || status < 400 || status > 599 {
			writeError(w, http.StatusBadRequest, "invalid_sample_fail")
			return false
		}
		writeError(w, status, "injected_failure")
		return false
	}
	if s.failureRate > 0 && s.rand() < s.failureRate {
		writeError(w, http.StatusServiceUnavailable, "injected_failure")
		return false
	}
	return true
}

func (s *server) listOffices(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, offices)
}

func (s *server) listSlots(w http.ResponseWriter, r *http.Request) {
	o, ok := office(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_office")
		return
	}
	taken, err := s.store.Taken(r.Context(), o.ID)
	if err != nil {
		internalError(w, r, err)
		return
	}
	free := []Slot{}
	for _, slot := range window(s.now()) {
		if !taken[slot.ID] {
			free = append(free, slot)
		}
	}
	writeJSON(w, http.StatusOK, free)
}

// appointmentJSON is an appointment on the wire. The cédula is left out: a
// code alone must not reveal whose it is.
type appointmentJSON struct {
	Code       string `json:"code"`
	Office     string `json:"office"`
	OfficeName string `json:"office_name"`
	Date       string `json:"date"`
	Time       string `json:"time"`
	Status     string `json:"status"` // active, cancelled, past
}

func (s *server) appointmentJSON(a Appointment) appointmentJSON {
	o, _ := office(a.Office)
	date, hour, _ := strings.Cut(a.Slot, "T")
	status := "active"
	if a.Cancelled {
		status = "cancelled"
	} else if s.past(a) {
		status = "past"
	}
	return appointmentJSON{Code: a.Code, Office: a.Office, OfficeName: o.Name, Date: date, Time: hour, Status: status}
}

func (s *server) past(a Appointment) bool {
	start, ok := slotStart(a.Slot)
	return ok && !start.After(s.now())
}

func (s *server) book(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Office string `json:"office"`
		Slot   string `json:"slot"`
		Cedula string `json:"cedula"`
	}
	if !readJSON(w, r, &req) ||
		!required(w, "office", req.Office) || !required(w, "slot", req.Slot) || !required(w, "cedula", req.Cedula) ||
		!validCedula(w, req.Cedula) {
		return
	}
	if _, ok := office(req.Office); !ok {
		writeError(w, http.StatusNotFound, "unknown_office")
		return
	}
	if !inWindow(req.Slot, s.now()) {
		writeError(w, http.StatusNotFound, "unknown_slot")
		return
	}
	a := Appointment{Office: req.Office, Slot: req.Slot, Cedula: req.Cedula, Booked: s.now()}
	// A fresh code on the rare clash with an existing one.
	err := ErrDuplicateCode
	for try := 0; try < 5 && errors.Is(err, ErrDuplicateCode); try++ {
		a.Code = s.codes()
		err = s.store.Book(r.Context(), a)
	}
	switch {
	case errors.Is(err, ErrSlotTaken):
		writeError(w, http.StatusConflict, "slot_taken")
	case err != nil:
		internalError(w, r, err)
	default:
		writeJSON(w, http.StatusCreated, s.appointmentJSON(a))
	}
}

func inWindow(slot string, now time.Time) bool {
	for _, s := range window(now) {
		if s.ID == slot {
			return true
		}
	}
	return false
}

func (s *server) listAppointments(w http.ResponseWriter, r *http.Request) {
	cedula := r.URL.Query().Get("cedula")
	if !required(w, "cedula", cedula) || !validCedula(w, cedula) {
		return
	}
	list, err := s.store.ByCedula(r.Context(), cedula)
	if err != nil {
		internalError(w, r, err)
		return
	}
	out := []appointmentJSON{}
	for _, a := range list {
		if !s.past(a) {
			out = append(out, s.appointmentJSON(a))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) getAppointment(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.Appointment(r.Context(), r.PathValue("code"))
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "unknown_appointment")
	case err != nil:
		internalError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, s.appointmentJSON(a))
	}
}

// settle answers for an active appointment of the citizen's: cancel
// frees it, confirm records that the citizen comes (the answer to a
// reminder). An appointment whose time has passed is no longer active.
func (s *server) settle(status string, do func(st Store, ctx context.Context, code, cedula string) (Appointment, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Cedula string `json:"cedula"`
		}
		if !readJSON(w, r, &req) || !required(w, "cedula", req.Cedula) {
			return
		}
		code := r.PathValue("code")
		if a, err := s.store.Appointment(r.Context(), code); err == nil && s.past(a) {
			writeError(w, http.StatusNotFound, "unknown_appointment")
			return
		}
		a, err := do(s.store, r.Context(), code, req.Cedula)
		switch {
		case errors.Is(err, ErrNotFound):
			writeError(w, http.StatusNotFound, "unknown_appointment")
		case err != nil:
			internalError(w, r, err)
		default:
			writeJSON(w, http.StatusOK, map[string]string{"code": a.Code, "status": status})
		}
	}
}

func (s *server) getProcedure(w http.ResponseWriter, r *http.Request) {
	p, ok := procedures[r.PathValue("number")]
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_procedure")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *server) createTicket(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Kind  string `json:"kind"`
		Text  string `json:"text"`
		Phone string `json:"phone"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	req.Text = strings.TrimSpace(req.Text)
	switch req.Kind {
	case "complaint", "suggestion", "compliment":
	default:
		writeError(w, http.StatusBadRequest, "invalid_kind")
		return
	}
	if !required(w, "text", req.Text) {
		return
	}
	if utf8.RuneCountInString(req.Text) > maxTicketText {
		writeError(w, http.StatusBadRequest, "text_too_long")
		return
	}
	if req.Phone != "" && !validPhone(req.Phone) {
		writeError(w, http.StatusBadRequest, "invalid_phone")
		return
	}
	n, err := s.store.AddTicket(r.Context(), Ticket{Kind: req.Kind, Text: req.Text, Phone: req.Phone, Created: s.now()})
	if err != nil {
		internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"ticket": fmt.Sprintf("B-%06d", n)})
}

// validCedula checks the shape only (ten digits): the gateway's flows
// validate the check digit before calling.
func validCedula(w http.ResponseWriter, cedula string) bool {
	if len(cedula) != 10 || strings.Trim(cedula, "0123456789") != "" {
		writeError(w, http.StatusBadRequest, "invalid_cedula")
		return false
	}
	return true
}

// validPhone accepts E.164: "+", then 8 to 15 digits.
func validPhone(p string) bool {
	digits, ok := strings.CutPrefix(p, "+")
	return ok && len(digits) >= 8 && len(digits) <= 15 && digits[0] != '0' &&
		strings.Trim(digits, "0123456789") == ""
}

func required(w http.ResponseWriter, field, value string) bool {
	if value == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "missing_field", "field": field})
		return false
	}
	return true
}

// readJSON decodes one JSON object strictly: bounded, no unknown fields, no
// trailing data. It answers the error itself and reports whether to go on.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type")
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large")
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid_json")
	}
	return err == nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func internalError(w http.ResponseWriter, r *http.Request, err error) {
	slog.ErrorContext(r.Context(), "sample back-end", "method", r.Method, "pattern", r.Pattern, "err", err)
	writeError(w, http.StatusInternalServerError, "internal")
}

// muxErrorWriter turns net/http's plain-text 404 and 405 into this API's
// JSON errors; the Allow header of a 405 is kept.
type muxErrorWriter struct {
	http.ResponseWriter
	replaced bool
}

func (w *muxErrorWriter) WriteHeader(status int) {
	if status < 400 {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	code := "not_found"
	if status == http.StatusMethodNotAllowed {
		code = "method_not_allowed"
	}
	w.Header().Del("X-Content-Type-Options")
	writeError(w.ResponseWriter, status, code)
	w.replaced = true
}

func (w *muxErrorWriter) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil // the plain-text message, already replaced
	}
	return w.ResponseWriter.Write(p)
}

// codeAlphabet has 32 symbols, so a random byte maps onto it without bias,
// and leaves out 0/O and 1/I, which citizens read out to each other.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// RandomCode returns an appointment code such as "T-4F7K2" (32⁵ ≈ 33
// million codes).
func RandomCode() string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand aborts the program instead
	code := []byte("T-00000")
	for i, c := range b {
		code[2+i] = codeAlphabet[c%32]
	}
	return string(code)
}
