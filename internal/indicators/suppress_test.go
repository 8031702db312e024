package indicators

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestWithhold(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cells       []int64
		hidden      []bool
		totalHidden bool
	}{
		{"all large", []int64{10, 20, 30}, []bool{false, false, false}, false},
		{"one small is withheld with the next smallest", []int64{3, 20, 12}, []bool{true, false, true}, false},
		{"two small adding up to k", []int64{4, 6, 50}, []bool{true, true, false}, false},
		{"two small adding up to less than k take a third", []int64{2, 3, 11, 50}, []bool{true, true, true, false}, false},
		{"zeros are published", []int64{0, 15, 3, 12}, []bool{false, false, true, true}, false},
		{"a small total is withheld whole", []int64{3, 4}, []bool{true, true}, true},
		{"nothing at all", []int64{0, 0}, []bool{true, true}, false},
		{"one cell", []int64{12}, []bool{false}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hidden, totalHidden := withhold(tc.cells, 10)
			if !slices.Equal(hidden, tc.hidden) || totalHidden != tc.totalHidden {
				t.Errorf("withhold(%v) = %v, %v; want %v, %v", tc.cells, hidden, totalHidden, tc.hidden, tc.totalHidden)
			}
		})
	}
}

// day is 2026-12-01 plus n days.
func day(n int) time.Time { return time.Date(2026, 12, 1+n, 0, 0, 0, 0, time.UTC) }

func report(t *testing.T, p *Publisher, from, to int, g string) *Report {
	t.Helper()
	r, err := p.Report(context.Background(), Query{From: day(from), To: day(to), Granularity: g})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func started(rows []Row) map[string]int64 {
	m := map[string]int64{}
	for _, r := range rows {
		m[r.Key] = r.Started
	}
	return m
}

// TestNobodySingledOut is the attack: a service used by three citizens
// on a day, among services used by many, must not show — not in its
// row, not as the total minus the other rows, not as its institution
// minus its sibling, not as the difference of two date ranges.
func TestNobodySingledOut(t *testing.T) {
	m := NewMemory()
	add := func(d int, flow, inst string, n int64) {
		dims := Dims{Flow: flow, Institution: inst, Channel: "ussd", Carrier: "africastalking", Locale: "es"}
		_ = m.Add(context.Background(), map[Cell]int64{{Day: day(d).Format(DayLayout), Dims: dims, Metric: MetricStarted}: n})
	}
	add(0, "turnos", "Registro Civil", 40)
	add(0, "estado", "Registro Civil", 25)
	add(0, "buzon", "Defensoría", 30)
	add(1, "turnos", "Registro Civil", 40)
	add(1, "estado", "Registro Civil", 25)
	add(1, "rare", "Registro Civil", 3) // three citizens: never to be told apart
	add(1, "buzon", "Defensoría", 30)
	p := &Publisher{Store: m, K: 10}

	one := report(t, p, 1, 1, Day)
	svc := started(one.Services)
	if _, ok := svc["rare"]; ok {
		t.Fatalf("a cell of 3 was published: %+v", one.Services)
	}
	var sum int64
	for _, v := range svc {
		sum += v
	}
	if rest := one.Total.Started - sum; rest != 0 && rest < 10 {
		t.Errorf("total %d minus published services %d = %d: the small cell comes back by subtraction", one.Total.Started, sum, rest)
	}
	if rest := one.Total.Started - sum; rest != one.Withheld.Conversations["services"] {
		t.Errorf("withheld conversations of services = %d, the total minus the rows = %d", one.Withheld.Conversations["services"], rest)
	}
	inst := started(one.Institutions)
	if rest := inst["Registro Civil"] - svc["turnos"] - svc["estado"]; rest != 0 && rest < 10 {
		t.Errorf("institution %d minus its published services %d, %d = %d gives the small cell back", inst["Registro Civil"], svc["turnos"], svc["estado"], rest)
	}

	both := report(t, p, 0, 1, Day)
	first := report(t, p, 0, 0, Day)
	for key, n := range started(both.Services) {
		if d := n - started(first.Services)[key]; d != svc[key] {
			t.Errorf("%s: two days minus the first = %d, the second day's published figure is %d", key, d, svc[key])
		}
	}
	if d := both.Total.Started - first.Total.Started; d != one.Total.Started {
		t.Errorf("total: two days minus the first = %d, the second day's total is %d", d, one.Total.Started)
	}
}

// TestDifferencesRevealOnlyPublishedCells checks the property behind the
// method on random counts: any figure of any report is the sum of the
// same figure in the one-day reports of its days, so the difference of
// two reports, whatever their ranges and granularity, is made of
// published one-day cells; and in a one-day report, the total minus a
// table's rows is nothing or at least k.
func TestDifferencesRevealOnlyPublishedCells(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	m := NewMemory()
	flows := []string{"a", "b", "c", "d", "e"}
	carriers := []string{"at", "kannel", "twilio"}
	locales := []string{"es", "en", "qu"}
	const days = 10
	for d := range days {
		batch := map[Cell]int64{}
		for range 40 {
			dims := Dims{Flow: flows[rnd.IntN(len(flows))], Channel: "sms", Carrier: carriers[rnd.IntN(len(carriers))], Locale: locales[rnd.IntN(len(locales))]}
			dims.Institution = "inst-" + dims.Flow
			batch[Cell{Day: day(d).Format(DayLayout), Dims: dims, Metric: MetricStarted}] += int64(rnd.IntN(6))
			batch[Cell{Day: day(d).Format(DayLayout), Dims: dims, Metric: fmt.Sprintf("%s:%d", MetricRating, 1+rnd.IntN(5))}] += int64(rnd.IntN(3))
		}
		_ = m.Add(context.Background(), batch)
	}
	p := &Publisher{Store: m, K: 10}
	single := make([]*Report, days)
	for d := range days {
		single[d] = report(t, p, d, d, Day)
		r := single[d]
		for name, rows := range map[string][]Row{"services": r.Services, "carriers": r.Carriers, "locales": r.Locales} {
			var sum, small int64
			for _, row := range rows {
				sum += row.Started
				if row.Started > 0 && row.Started < 10 {
					small++
				}
			}
			if small > 0 {
				t.Errorf("day %d, %s: %d published cells count fewer than 10", d, name, small)
			}
			if rest := r.Total.Started - sum; rest != 0 && rest < 10 {
				t.Errorf("day %d, %s: the total minus the rows is %d", d, name, rest)
			}
		}
	}
	for _, g := range []string{Day, Week, Month} {
		for from := range days {
			for to := from; to < days; to++ {
				r := report(t, p, from, to, g)
				for name, get := range map[string]func(*Report) []Row{
					"services": func(r *Report) []Row { return r.Services },
					"locales":  func(r *Report) []Row { return r.Locales },
					"channels": func(r *Report) []Row { return r.Channels },
				} {
					want := map[string][2]int64{}
					for d := from; d <= to; d++ {
						for _, row := range get(single[d]) {
							w := want[row.Key]
							w[0] += row.Started
							w[1] += row.Satisfaction.Count
							want[row.Key] = w
						}
					}
					for _, row := range get(r) {
						if w := want[row.Key]; row.Started != w[0] || row.Satisfaction.Count != w[1] {
							t.Fatalf("%s %d..%d by %s, %s %q: %d conversations, %d ratings; the one-day reports add up to %d, %d",
								name, from, to, g, name, row.Key, row.Started, row.Satisfaction.Count, w[0], w[1])
						}
					}
				}
			}
		}
	}
}

// TestNobodySingledOutPerInstitution is the attack through the
// institution: a small institution among large ones, and a small service
// within an institution, must not come back from the institutions' rows,
// from an institution's own report (?institution=) minus its rows, nor
// from a carrier's row minus the same carrier in each institution's
// report. Both levels need their complementary cells withheld: without
// either, one of these differences is the small cell.
func TestNobodySingledOutPerInstitution(t *testing.T) {
	m := NewMemory()
	add := func(flow, inst, carrier string, n int64) {
		dims := Dims{Flow: flow, Institution: inst, Channel: "ussd", Carrier: carrier, Locale: "es"}
		_ = m.Add(context.Background(), map[Cell]int64{{Day: day(0).Format(DayLayout), Dims: dims, Metric: MetricStarted}: n})
	}
	add("turnos", "Registro Civil", "at", 40)
	add("turnos", "Registro Civil", "kannel", 12)
	add("estado", "Registro Civil", "at", 25)
	add("rare", "Registro Civil", "kannel", 3) // three citizens in a large institution
	add("buzon", "Defensoría", "at", 30)
	add("multas", "Tránsito", "at", 35)
	add("pago", "Municipio", "kannel", 4) // a small institution of four
	p := &Publisher{Store: m, K: 10}
	all := report(t, p, 0, 0, Day)
	small := func(what string, rest int64) {
		t.Helper()
		if rest != 0 && rest < 10 {
			t.Errorf("%s = %d: a withheld cell comes back by subtraction", what, rest)
		}
	}
	var sum int64
	for _, row := range all.Institutions {
		if row.Started < 10 {
			t.Errorf("institution %q published with %d", row.Key, row.Started)
		}
		sum += row.Started
	}
	small("the total minus the institutions", all.Total.Started-sum)
	if all.Withheld.Conversations["institutions"] != all.Total.Started-sum {
		t.Errorf("withheld institutions %d, the total minus their rows %d", all.Withheld.Conversations["institutions"], all.Total.Started-sum)
	}
	carriers := map[string]int64{}
	for _, row := range all.Institutions {
		one, err := p.Report(context.Background(), Query{From: day(0), To: day(0), Institution: row.Key})
		if err != nil {
			t.Fatal(err)
		}
		if one.Total.Started != row.Started {
			t.Errorf("%s: its own report's total %d, its row in the whole report %d", row.Key, one.Total.Started, row.Started)
		}
		for name, rows := range map[string][]Row{"services": one.Services, "carriers": one.Carriers, "locales": one.Locales} {
			var sum int64
			for _, r := range rows {
				if r.Started > 0 && r.Started < 10 {
					t.Errorf("%s, %s %q published with %d", row.Key, name, r.Key, r.Started)
				}
				sum += r.Started
				if name == "carriers" {
					carriers[r.Key] += r.Started
				}
			}
			small(row.Key+"'s total minus its "+name, one.Total.Started-sum)
		}
	}
	for _, r := range all.Carriers {
		if d := r.Started - carriers[r.Key]; d != 0 {
			t.Errorf("carrier %s: %d in the whole report, %d in the institutions' reports: the difference %d is withheld cells", r.Key, r.Started, carriers[r.Key], d)
		}
	}
	if _, err := p.Report(context.Background(), Query{From: day(0), To: day(0), Institution: "Municipio"}); err != nil {
		t.Fatal(err)
	}
}

// counts gives a back-end row's calls of each outcome back from its
// shares, as anyone reading the report can.
func counts(b BackendRow) map[string]int64 {
	m := map[string]int64{}
	for o, s := range b.Outcomes {
		m[o] = int64(math.Round(s * float64(b.Calls)))
	}
	return m
}

// TestNobodySingledOutByBackendCalls is the same attack on the back-end
// calls, now split per institution (the service's owner): a small
// institution among large ones, and a small service within a large
// institution, must not come back — neither their calls nor their
// outcomes — from the total minus the institutions, from an
// institution's row minus its services, from its own report, or from
// the difference of two date ranges. Each level needs its complementary
// cells: without either, one of these differences is the small cell.
func TestNobodySingledOutByBackendCalls(t *testing.T) {
	m := NewMemory()
	add := func(d int, inst, svc string, outcomes map[string]int64) {
		batch := map[Cell]int64{}
		for o, n := range outcomes {
			batch[Cell{Day: day(d).Format(DayLayout), Dims: Dims{Institution: inst}, Metric: MetricCall + ":" + svc + ":" + o}] = n
		}
		_ = m.Add(context.Background(), batch)
	}
	for d := range 2 {
		add(d, "registro", "registro.cedula", map[string]int64{"ok": 38, "timeout": 2})
		add(d, "registro", "registro.acta", map[string]int64{"ok": 25})
		add(d, "transito", "transito.multas", map[string]int64{"ok": 30, "error": 5})
		add(d, "defensoria", "defensoria.buzon", map[string]int64{"ok": 20})
	}
	add(0, "registro", "registro.raro", map[string]int64{"not_found": 3})     // three calls in a large institution
	add(0, "municipio", "municipio.pago", map[string]int64{"unavailable": 4}) // a small institution of four
	add(1, "municipio", "municipio.pago", map[string]int64{"ok": 40})
	p := &Publisher{Store: m, K: 10}
	small := func(what string, rest int64) {
		t.Helper()
		if rest != 0 && rest < 10 {
			t.Errorf("%s = %d: a withheld cell comes back by subtraction", what, rest)
		}
	}

	all := report(t, p, 0, 0, Day)
	if all.BackendTotal.Calls != 127 {
		t.Fatalf("the day's calls: %d, want 127", all.BackendTotal.Calls)
	}
	var sum int64
	byInst := map[string]BackendRow{}
	for _, b := range all.BackendInstitutions {
		if b.Calls < 10 {
			t.Errorf("institution %q published with %d calls", b.Institution, b.Calls)
		}
		sum += b.Calls
		byInst[b.Institution] = b
	}
	small("the day's calls minus the institutions'", all.BackendTotal.Calls-sum)
	if all.Withheld.Calls["institutions"] != all.BackendTotal.Calls-sum {
		t.Errorf("withheld calls of institutions %d, the total minus their rows %d", all.Withheld.Calls["institutions"], all.BackendTotal.Calls-sum)
	}
	// The withheld institutions' outcomes, taken together, are what
	// subtraction gives: they must not be one institution's alone.
	rest := counts(all.BackendTotal)
	for _, b := range all.BackendInstitutions {
		for o, n := range counts(b) {
			rest[o] -= n
		}
	}
	if rest["unavailable"] == 4 && all.BackendTotal.Calls-sum == 4 {
		t.Errorf("the total minus the institutions is the small institution's four calls, all unavailable")
	}
	var services int64
	svcOf := map[string]int64{}
	for _, b := range all.Backends {
		if b.Calls < 10 {
			t.Errorf("service %q published with %d calls", b.Service, b.Calls)
		}
		svcOf[b.Institution] += b.Calls
		services += b.Calls
	}
	small("the day's calls minus the services'", all.BackendTotal.Calls-services)
	if all.Withheld.Calls["backends"] != all.BackendTotal.Calls-services {
		t.Errorf("withheld calls of services %d, the total minus their rows %d", all.Withheld.Calls["backends"], all.BackendTotal.Calls-services)
	}
	for inst, b := range byInst {
		small(inst+"'s calls minus its services'", b.Calls-svcOf[inst])
		one, err := p.Report(context.Background(), Query{From: day(0), To: day(0), Institution: inst})
		if err != nil {
			t.Fatal(err)
		}
		if one.BackendTotal.Calls != b.Calls || len(one.BackendInstitutions) != 1 {
			t.Errorf("%s: its own report's calls %+v, its row in the whole report %+v", inst, one.BackendTotal, b)
		}
		var own int64
		for _, s := range one.Backends {
			if s.Institution != inst {
				t.Errorf("%s's report shows %s's service %s", inst, s.Institution, s.Service)
			}
			own += s.Calls
		}
		if own != svcOf[inst] {
			t.Errorf("%s: its services' calls %d in its own report, %d in the whole report", inst, own, svcOf[inst])
		}
	}
	if _, ok := byInst["municipio"]; ok {
		t.Error("an institution of four calls is published")
	}

	// Over two days, every figure is the sum of the days' published ones:
	// the municipio's first day stays withheld inside its two-day row.
	both, second := report(t, p, 0, 1, Day), report(t, p, 1, 1, Day)
	rows := func(r *Report) map[string]BackendRow {
		out := map[string]BackendRow{"": r.BackendTotal}
		for _, b := range r.BackendInstitutions {
			out[b.Institution] = b
		}
		for _, b := range r.Backends {
			out[b.Institution+"/"+b.Service] = b
		}
		return out
	}
	first2, second2 := rows(all), rows(second)
	for key, b := range rows(both) {
		got := counts(b)
		want := counts(first2[key])
		for o, n := range counts(second2[key]) {
			want[o] += n
		}
		for o := range want {
			if got[o] != want[o] {
				t.Errorf("%q over two days: %s %d; the one-day reports add up to %d", key, o, got[o], want[o])
			}
		}
	}
}
