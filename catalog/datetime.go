package catalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
)

// PostgreSQL's date and timestamp constants (datatype/timestamp.h).
const (
	postgresEpochJDate = 2451545 // Julian day of 2000-01-01
	unixEpochJDate     = 2440588 // Julian day of 1970-01-01
	dateEndJulian      = 2147483494
	usecsPerSec        = 1000000
	usecsPerDay        = 86400 * usecsPerSec
	minTimestamp       = -211813488000000000 // 4714-11-24 00:00:00 BC
	endTimestamp       = 9223371331200000000 // 294277-01-01 00:00:00
	maxTZDispHour      = 15
)

// DateInfinity and DateNegInfinity are the day numbers of the dates
// 'infinity' and '-infinity'.
const (
	DateInfinity    int32 = math.MaxInt32
	DateNegInfinity int32 = math.MinInt32
)

// TimestampInfinity and TimestampNegInfinity are the microsecond counts of
// the timestamps 'infinity' and '-infinity'.
const (
	TimestampInfinity    int64 = math.MaxInt64
	TimestampNegInfinity int64 = math.MinInt64
)

// date2j is PostgreSQL's date2j: the Julian day number of a proleptic
// Gregorian date, with year 0 for 1 BC.
func date2j(year, month, day int) int {
	if month > 2 {
		month++
		year += 4800
	} else {
		month += 13
		year += 4799
	}
	century := year / 100
	julian := year*365 - 32167
	julian += year/4 - century + century/4
	julian += 7834*month/256 + day
	return julian
}

// validJulian is IS_VALID_JULIAN: the date lies within the range date2j
// handles.
func validJulian(y, m int) bool {
	return (y > -4713 || (y == -4713 && m >= 11)) && (y < 5874898 || (y == 5874898 && m < 6))
}

// isLeap is PostgreSQL's isleap for a year numbered with 0 for 1 BC.
func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn returns the length of month m (1..12) of year y.
func daysIn(y, m int) int {
	if m == 2 && isLeap(y) {
		return 29
	}
	return [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
}

// DateFromTime returns the date of t's calendar day in t's location as
// PostgreSQL's DateADT: days since 2000-01-01.
func DateFromTime(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(date2j(y, int(m), d) - postgresEpochJDate)
}

// TimestampFromTime returns the instant t as a PostgreSQL timestamptz:
// microseconds since 2000-01-01 00:00:00 UTC, rounded down as pgx encodes it.
func TimestampFromTime(t time.Time) int64 {
	return (t.Unix()-(postgresEpochJDate-unixEpochJDate)*86400)*usecsPerSec + int64(t.Nanosecond())/1000
}

// LocalTimestampFromTime returns t's wall clock reading in t's location as
// a PostgreSQL timestamp without time zone: microseconds since 2000-01-01
// 00:00:00 on that clock.
func LocalTimestampFromTime(t time.Time) int64 {
	_, off := t.Zone()
	return TimestampFromTime(t) + int64(off)*usecsPerSec
}

// dateTime is a parsed date/time literal.
type dateTime struct {
	special              int // 0, or +1 for infinity, -1 for -infinity
	year, month, day     int // year 0 is 1 BC
	hour, minute, second int
	fsec                 int64
	hasZone              bool
	zoneEast             int // seconds east of UTC
}

// datetimeError builds the *InputError of a rejected date/time literal.
func datetimeError(typ Type, s, code, format string) error {
	return inputError(typ, s, code, fmt.Sprintf(format, s))
}

// fieldOverflow is "date/time field value out of range" (22008).
func fieldOverflow(typ Type, s string) error {
	return datetimeError(typ, s, pgerrcode.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"")
}

// parseDateTime reads the ISO 8601 subset of PostgreSQL's date/time input:
//
//	infinity | -infinity | epoch
//	(Y-M-D | YYYYMMDD) [blanks (BC|AD)] [(T|blanks) H:MM[:SS[.frac]] [blanks] [zone]] [blanks (BC|AD)]
//
// with a year of 3 to 7 digits, 1- or 2-digit month, day and hour, and a
// zone of Z, UTC, GMT or ±h, ±hh, ±hmm, ±hhmm, ±h[h]:mm[:ss], and at most
// one era. Blanks may surround the whole. Anything else is reported as unsupported syntax.
func parseDateTime(typ Type, s string) (dateTime, error) {
	var dt dateTime
	str := trimSpace(s)
	switch {
	case strings.EqualFold(str, "infinity"):
		dt.special = 1
		return dt, nil
	case strings.EqualFold(str, "-infinity"):
		dt.special = -1
		return dt, nil
	case strings.EqualFold(str, "epoch"):
		dt.year, dt.month, dt.day = 1970, 1, 1
		dt.hasZone = true
		return dt, nil
	}
	p := dtScanner{s: str}
	if basic := p.run(); len(basic) == 8 && (len(str) == 8 || str[8] == 'T' || str[8] == 't' || isSpace(str[8])) {
		// ISO 8601 basic format YYYYMMDD (DecodeNumberField).
		dt.year, _ = strconv.Atoi(basic[:4])
		dt.month, _ = strconv.Atoi(basic[4:6])
		dt.day, _ = strconv.Atoi(basic[6:])
		p.i = 8
	} else {
		year, yl := p.number(7)
		if yl < 3 || !p.skip('-') {
			return dt, unsupportedSyntax(typ, s)
		}
		month, ml := p.number(2)
		if ml == 0 || !p.skip('-') {
			return dt, unsupportedSyntax(typ, s)
		}
		day, dl := p.number(2)
		if dl == 0 {
			return dt, unsupportedSyntax(typ, s)
		}
		dt.year, dt.month, dt.day = year, month, day
	}
	blanks := p.blanks()
	bc, era := false, false
	if blanks {
		// An era may also follow the date directly: "2020-01-01 BC 12:00".
		if w := p.s[p.i:min(p.i+2, len(p.s))]; (strings.EqualFold(w, "bc") || strings.EqualFold(w, "ad")) &&
			(p.i+2 == len(p.s) || isSpace(p.s[p.i+2])) {
			bc, era = strings.EqualFold(w, "bc"), true
			p.i += 2
			blanks = p.blanks()
		}
	}
	if p.more() && (p.peek() == 'T' || p.peek() == 't') && !blanks && p.digitAt(1) {
		p.i++
		blanks = true
	}
	if blanks && p.more() && isDigit(p.peek()) {
		if err := p.clock(&dt); err != nil {
			return dt, unsupportedSyntax(typ, s)
		}
		// time_overflows runs as soon as the time field is decoded, before
		// any zone after it.
		if dt.hour > 24 || dt.minute >= 60 || dt.second > 60 || dt.fsec > usecsPerSec ||
			((int64(dt.hour)*60+int64(dt.minute))*60+int64(dt.second))*usecsPerSec+dt.fsec > usecsPerDay {
			return dt, fieldOverflow(typ, s)
		}
		p.blanks()
		if p.more() && p.peek() != 'b' && p.peek() != 'B' && p.peek() != 'a' && p.peek() != 'A' {
			ok, overflow := p.zone(&dt)
			if !ok {
				return dt, unsupportedSyntax(typ, s)
			}
			if overflow {
				return dt, datetimeError(typ, s, pgerrcode.InvalidTimeZoneDisplacementValue, "time zone displacement out of range: \"%s\"")
			}
			p.blanks()
		}
	}
	if rest := p.s[p.i:]; !era && (strings.EqualFold(rest, "bc") || strings.EqualFold(rest, "ad")) {
		bc = strings.EqualFold(rest, "bc")
		p.i = len(p.s)
	}
	if p.more() {
		return dt, unsupportedSyntax(typ, s)
	}
	// ValidateDate.
	if dt.year <= 0 {
		return dt, fieldOverflow(typ, s)
	}
	if bc {
		dt.year = -(dt.year - 1)
	}
	if dt.month < 1 || dt.month > 12 || dt.day < 1 || dt.day > 31 {
		return dt, fieldOverflow(typ, s)
	}
	if dt.day > daysIn(dt.year, dt.month) {
		return dt, fieldOverflow(typ, s)
	}
	return dt, nil
}

// dtScanner walks a date/time literal.
type dtScanner struct {
	s string
	i int
}

func (p *dtScanner) more() bool { return p.i < len(p.s) }
func (p *dtScanner) peek() byte { return p.s[p.i] }

// digitAt reports whether the byte k positions ahead is a digit.
func (p *dtScanner) digitAt(k int) bool { return p.i+k < len(p.s) && isDigit(p.s[p.i+k]) }

// skip consumes c if it is next.
func (p *dtScanner) skip(c byte) bool {
	if p.more() && p.peek() == c {
		p.i++
		return true
	}
	return false
}

// blanks consumes blanks and reports whether there were any.
func (p *dtScanner) blanks() bool {
	j := p.i
	for p.more() && isSpace(p.peek()) {
		p.i++
	}
	return p.i > j
}

// run returns the digits starting at the current position, without
// consuming them.
func (p *dtScanner) run() string {
	j := p.i
	for j < len(p.s) && isDigit(p.s[j]) {
		j++
	}
	return p.s[p.i:j]
}

// number reads up to max digits; a longer run reads as no number at all.
func (p *dtScanner) number(max int) (int, int) {
	j := p.i
	for j < len(p.s) && isDigit(p.s[j]) {
		j++
	}
	if j-p.i > max {
		return 0, 0
	}
	v, _ := strconv.Atoi(p.s[p.i:j])
	n := j - p.i
	p.i = j
	return v, n
}

// clock reads H:MM[:SS[.frac]].
func (p *dtScanner) clock(dt *dateTime) error {
	h, hl := p.number(2)
	if hl == 0 || !p.skip(':') {
		return ErrUnsupportedSyntax
	}
	m, ml := p.number(2)
	if ml != 2 {
		return ErrUnsupportedSyntax
	}
	dt.hour, dt.minute = h, m
	if !p.skip(':') {
		return nil
	}
	sec, sl := p.number(2)
	if sl != 2 {
		return ErrUnsupportedSyntax
	}
	dt.second = sec
	if !p.more() || p.peek() != '.' {
		return nil
	}
	j := p.i + 1
	for j < len(p.s) && isDigit(p.s[j]) {
		j++
	}
	if j == p.i+1 {
		return ErrUnsupportedSyntax
	}
	// ParseFractionalSecond: strtod of ".fff" scaled and rounded with rint.
	frac, err := strconv.ParseFloat(p.s[p.i:j], 64)
	if err != nil {
		return ErrUnsupportedSyntax
	}
	dt.fsec = int64(math.RoundToEven(frac * usecsPerSec))
	p.i = j
	return nil
}

// zone reads a zone as DecodeTimezone does (or Z, UTC, GMT). overflow
// reports a displacement out of range.
func (p *dtScanner) zone(dt *dateTime) (ok, overflow bool) {
	rest := p.s[p.i:]
	word := rest
	if k := strings.IndexFunc(rest, func(r rune) bool { return r < 128 && isSpace(byte(r)) }); k >= 0 {
		word = rest[:k]
	}
	if strings.EqualFold(word, "z") || strings.EqualFold(word, "utc") || strings.EqualFold(word, "gmt") {
		p.i += len(word)
		dt.hasZone, dt.zoneEast = true, 0
		return true, false
	}
	if word[0] != '+' && word[0] != '-' {
		return false, false
	}
	body := word[1:]
	var hr, min, sec int
	parts := strings.Split(body, ":")
	if len(parts) > 3 {
		return false, false
	}
	vals := make([]int, len(parts))
	for k, part := range parts {
		if part == "" || len(part) > 4 || (k > 0 && len(part) > 2) {
			return false, false
		}
		for i := 0; i < len(part); i++ {
			if !isDigit(part[i]) {
				return false, false
			}
		}
		vals[k], _ = strconv.Atoi(part)
	}
	switch {
	case len(parts) > 1:
		if len(parts[0]) > 2 {
			return false, false
		}
		hr, min = vals[0], vals[1]
		if len(parts) == 3 {
			sec = vals[2]
		}
	case len(word) > 3:
		hr, min = vals[0]/100, vals[0]%100
	default:
		hr = vals[0]
	}
	p.i += len(word)
	if hr > maxTZDispHour || min >= 60 || sec >= 60 {
		return true, true
	}
	dt.zoneEast = (hr*60+min)*60 + sec
	if word[0] == '-' {
		dt.zoneEast = -dt.zoneEast
	}
	dt.hasZone = true
	return true, false
}

// ParseDate reads s as PostgreSQL's date_in does for the ISO 8601 forms
// (see HashText) and returns PostgreSQL's DateADT, days since 2000-01-01;
// 'infinity' and '-infinity' give DateInfinity and DateNegInfinity. A time
// and zone after the date are checked and ignored.
func ParseDate(s string) (int32, error) {
	dt, err := parseDateTime(TypeDate, s)
	if err != nil {
		return 0, err
	}
	switch dt.special {
	case 1:
		return DateInfinity, nil
	case -1:
		return DateNegInfinity, nil
	}
	outOfRange := func() error {
		return datetimeError(TypeDate, s, pgerrcode.DatetimeFieldOverflow, "date out of range: \"%s\"")
	}
	if !validJulian(dt.year, dt.month) {
		return 0, outOfRange()
	}
	d := date2j(dt.year, dt.month, dt.day) - postgresEpochJDate
	if d < -postgresEpochJDate || d >= dateEndJulian-postgresEpochJDate {
		return 0, outOfRange()
	}
	return int32(d), nil
}

// ParseTimestamp reads s as PostgreSQL's timestamp_in does for the ISO 8601
// forms (see HashText) and returns microseconds since 2000-01-01 00:00:00;
// a zone in the text is checked and ignored, as PostgreSQL does.
func ParseTimestamp(s string) (int64, error) {
	return parseTimestamp(TypeTimestamp, s, nil)
}

// ParseTimestamptz reads s as PostgreSQL's timestamptz_in does for the ISO
// 8601 forms (see HashText), with loc as the session TimeZone for text
// without a zone (nil means UTC), and returns microseconds since
// 2000-01-01 00:00:00 UTC.
func ParseTimestamptz(s string, loc *time.Location) (int64, error) {
	return parseTimestamp(TypeTimestamptz, s, loc)
}

// parseTimestamp is timestamp_in and timestamptz_in.
func parseTimestamp(typ Type, s string, loc *time.Location) (int64, error) {
	dt, err := parseDateTime(typ, s)
	if err != nil {
		return 0, err
	}
	switch dt.special {
	case 1:
		return TimestampInfinity, nil
	case -1:
		return TimestampNegInfinity, nil
	}
	outOfRange := func() error {
		return datetimeError(typ, s, pgerrcode.DatetimeFieldOverflow, "timestamp out of range: \"%s\"")
	}
	// tm2timestamp.
	if !validJulian(dt.year, dt.month) {
		return 0, outOfRange()
	}
	date := int64(date2j(dt.year, dt.month, dt.day) - postgresEpochJDate)
	tod := ((int64(dt.hour)*60+int64(dt.minute))*60+int64(dt.second))*usecsPerSec + dt.fsec
	ts := date*usecsPerDay + tod
	if (ts-tod)/usecsPerDay != date || (ts < 0 && date > 0) || (ts > 0 && date < -1) {
		return 0, outOfRange()
	}
	if typ == TypeTimestamptz {
		east := int64(dt.zoneEast)
		if !dt.hasZone {
			secs := date*86400 + int64(dt.hour)*3600 + int64(dt.minute)*60 + int64(dt.second)
			east = zoneOffset(secs+(postgresEpochJDate-unixEpochJDate)*86400, loc)
		}
		ts -= east * usecsPerSec
	}
	if ts < minTimestamp || ts >= endTimestamp {
		return 0, outOfRange()
	}
	return ts, nil
}

// zoneOffset returns the UTC offset (seconds east) PostgreSQL's
// DetermineTimeZoneOffset picks in loc for a local wall time given as
// seconds since 1970-01-01 00:00:00 on that wall clock: find the first zone
// transition after one day before; if both readings fall on one side of it
// use that side's offset, else (a gap or an overlap) the later instant.
func zoneOffset(wall int64, loc *time.Location) int64 {
	if loc == nil || loc == time.UTC {
		return 0
	}
	t0 := time.Unix(wall-86400, 0).In(loc)
	_, before := t0.Zone()
	_, end := t0.ZoneBounds()
	if end.IsZero() {
		return int64(before)
	}
	_, after := end.Zone()
	boundary := end.Unix()
	bt, at := wall-int64(before), wall-int64(after)
	switch {
	case bt < boundary && at < boundary:
		return int64(before)
	case bt > boundary && at >= boundary:
		return int64(after)
	case bt > at:
		return int64(before)
	}
	return int64(after)
}
