package indicators

// Back-end calls are published like conversations (see Report), in two
// levels: each day the institutions' calls are withheld against the day's
// total, then each published institution's services against the
// institution's own calls. The cell is a day's calls of an institution or
// of a service; the outcome shares are the parts of published cells only,
// so a share is never worked out from a withheld one.

// outcomes counts calls by outcome.
type outcomes map[string]int64

func (o outcomes) count() int64 {
	var n int64
	for _, v := range o {
		n += v
	}
	return n
}

// plus adds src to o, made on first use.
func (o outcomes) plus(src outcomes) outcomes {
	if o == nil {
		o = outcomes{}
	}
	for k, v := range src {
		o[k] += v
	}
	return o
}

// row is o as published: the calls and each outcome's share of them.
func (o outcomes) row(service, institution string) BackendRow {
	r := BackendRow{Service: service, Institution: institution, Calls: o.count(), Outcomes: map[string]float64{}}
	for k, v := range o {
		r.Outcomes[k] = float64(v) / float64(r.Calls)
	}
	return r
}

// dayCalls are one day's calls, per institution (the service's owner)
// and service.
type dayCalls struct {
	total outcomes
	insts map[string]*instCalls
}

type instCalls struct {
	total    outcomes
	services map[string]outcomes
}

func (d *dayCalls) add(inst, service, outcome string, n int64) {
	if d.insts == nil {
		d.insts = map[string]*instCalls{}
	}
	ic := d.insts[inst]
	if ic == nil {
		ic = &instCalls{services: map[string]outcomes{}}
		d.insts[inst] = ic
	}
	d.total = d.total.plus(outcomes{outcome: n})
	ic.total = ic.total.plus(outcomes{outcome: n})
	ic.services[service] = ic.services[service].plus(outcomes{outcome: n})
}

// callRows add up the published calls of a report's days.
type callRows struct {
	total    outcomes
	insts    map[string]outcomes
	services map[string]outcomes // institution sep service
	withheld map[string]int64    // calls left out of "institutions" and "backends"
}

// addDay adds a day's published cells: of every institution, or only of
// inst when the report is narrowed to it.
func (c *callRows) addDay(d *dayCalls, inst string, k int64) {
	if inst == "" && d.total.count() >= k {
		c.total = c.total.plus(d.total)
	}
	names := sortedKeys(d.insts)
	counts := make([]int64, len(names))
	for j, name := range names {
		counts[j] = d.insts[name].total.count()
	}
	hidden, totalHidden := withhold(counts, k)
	for j, name := range names {
		shown := inst == "" || inst == name
		if hidden[j] {
			if shown && !totalHidden && inst == "" {
				c.withheld["institutions"] += counts[j]
				c.withheld["backends"] += counts[j]
			}
			continue
		}
		if counts[j] == 0 || !shown {
			continue
		}
		ic := d.insts[name]
		if c.insts == nil {
			c.insts, c.services = map[string]outcomes{}, map[string]outcomes{}
		}
		c.insts[name] = c.insts[name].plus(ic.total)
		if inst != "" {
			c.total = c.total.plus(ic.total)
		}
		svcs := sortedKeys(ic.services)
		cc := make([]int64, len(svcs))
		for x, s := range svcs {
			cc[x] = ic.services[s].count()
		}
		h, _ := withhold(cc, k)
		for x, s := range svcs {
			if h[x] {
				c.withheld["backends"] += cc[x]
				continue
			}
			if cc[x] == 0 {
				continue
			}
			key := name + sep + s
			c.services[key] = c.services[key].plus(ic.services[s])
		}
	}
}
