package stix

import (
	"time"
)

// timestamp is a parsed STIX timestamp.
type timestamp struct {
	t time.Time
	// fraction is the number of fractional-second digits written.
	fraction int
}

// parseTimestamp reads the STIX timestamp form YYYY-MM-DDTHH:MM:SS[.s+]Z (RFC 3339, UTC only)
// and rejects instants that do not exist on the calendar, second 60 included, as the OASIS
// validator does. time.Parse is not used: it accepts offsets such as +00:00, which STIX does
// not, and this is on every object's path. Digits beyond nanoseconds are read but dropped.
func parseTimestamp(s string) (timestamp, string) {
	const shape = "YYYY-MM-DDTHH:MM:SS"
	if len(s) < len(shape)+1 || s[len(s)-1] != 'Z' {
		return timestamp{}, "it is not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z"
	}
	for i := range len(shape) {
		c := s[i]
		switch shape[i] {
		case '-', 'T', ':':
			if c != shape[i] {
				return timestamp{}, "it is not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z"
			}
		default:
			if c < '0' || c > '9' {
				return timestamp{}, "it is not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z"
			}
		}
	}
	rest := s[len(shape) : len(s)-1]
	nanos, digits := 0, 0
	if rest != "" {
		if rest[0] != '.' || len(rest) == 1 {
			return timestamp{}, "it is not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z"
		}
		for i := 1; i < len(rest); i++ {
			c := rest[i]
			if c < '0' || c > '9' {
				return timestamp{}, "it is not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z"
			}
			if digits < 9 {
				nanos = nanos*10 + int(c-'0')
			}
			digits++
		}
		for d := digits; d < 9; d++ {
			nanos *= 10
		}
	}
	year := num(s[0:4])
	month, day := num(s[5:7]), num(s[8:10])
	hour, minute, second := num(s[11:13]), num(s[14:16]), num(s[17:19])
	switch {
	case month < 1 || month > 12:
		return timestamp{}, "its month is not between 01 and 12"
	case day < 1 || day > daysIn(year, month):
		return timestamp{}, "that day does not exist in that month"
	case hour > 23:
		return timestamp{}, "its hour is not between 00 and 23"
	case minute > 59:
		return timestamp{}, "its minute is not between 00 and 59"
	case second == 60:
		return timestamp{}, "leap seconds (second 60) are not accepted"
	case second > 59:
		return timestamp{}, "its second is not between 00 and 59"
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, nanos, time.UTC)
	return timestamp{t: t, fraction: digits}, ""
}

func num(s string) int {
	n := 0
	for i := range len(s) {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// daysIn is the length of the month: day 0 of the next month is its last day.
func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// checkTimestamp checks a value the schema declares a timestamp. created and modified of SDOs,
// SROs and meta objects (marking definitions excepted) must also be precise to the millisecond.
func (c *objectCheck) checkTimestamp(where loc, v any) {
	s, ok := v.(string)
	if !ok {
		return // reported by the schema
	}
	ts, why := parseTimestamp(s)
	if why != "" {
		c.r.errorf(CodeInvalidTimestamp, where, "%s must be a UTC timestamp such as 2016-05-12T08:17:27.000Z; %s is not: %s.", where, quote(s), why)
		return
	}
	if len(where) == 1 && ts.fraction < 3 && c.needsMilliseconds(where[0].name) {
		c.r.errorf(CodeTimestampPrecision, where,
			"%s must be precise to at least the millisecond (three fractional digits, as in 2016-05-12T08:17:27.000Z); %s is not.", where, quote(s))
	}
}

func (c *objectCheck) needsMilliseconds(prop string) bool {
	if prop != "created" && prop != "modified" {
		return false
	}
	switch c.kind {
	case kindSDO, kindSRO, kindMeta, kindCustom:
		return true
	}
	return false
}

// order is a required ordering between two timestamp properties of one object.
type order struct {
	later, earlier string
	strict         bool // later must be strictly later, not equal
}

// timestampOrders lists, per type, the orderings STIX requires beyond modified >= created.
var timestampOrders = map[string][]order{
	"campaign":        {{later: "last_seen", earlier: "first_seen"}},
	"infrastructure":  {{later: "last_seen", earlier: "first_seen"}},
	"intrusion-set":   {{later: "last_seen", earlier: "first_seen"}},
	"malware":         {{later: "last_seen", earlier: "first_seen"}},
	"threat-actor":    {{later: "last_seen", earlier: "first_seen"}},
	"sighting":        {{later: "last_seen", earlier: "first_seen"}},
	"observed-data":   {{later: "last_observed", earlier: "first_observed"}},
	"indicator":       {{later: "valid_until", earlier: "valid_from", strict: true}},
	"relationship":    {{later: "stop_time", earlier: "start_time", strict: true}},
	"network-traffic": {{later: "end", earlier: "start"}},
}

var modifiedAfterCreated = order{later: "modified", earlier: "created"}

func (c *objectCheck) checkTimestampOrder() {
	if !c.kind.isObservable() && c.kind != kindMarking {
		c.checkOrder(modifiedAfterCreated)
	}
	for _, o := range timestampOrders[c.typ] {
		c.checkOrder(o)
	}
}

func (c *objectCheck) checkOrder(o order) {
	ls, ok1 := str(c.obj, o.later)
	es, ok2 := str(c.obj, o.earlier)
	if !ok1 || !ok2 {
		return
	}
	later, why1 := parseTimestamp(ls)
	earlier, why2 := parseTimestamp(es)
	if why1 != "" || why2 != "" {
		return // reported by checkTimestamp
	}
	switch {
	case o.strict && !later.t.After(earlier.t):
		c.r.errorf(CodeTimestampOrder, at(o.later), "%s (%s) must be later than %s (%s).", o.later, ls, o.earlier, es)
	case !o.strict && later.t.Before(earlier.t):
		c.r.errorf(CodeTimestampOrder, at(o.later), "%s (%s) must be later than or equal to %s (%s).", o.later, ls, o.earlier, es)
	}
}
