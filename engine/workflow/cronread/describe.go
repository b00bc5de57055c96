// Package cronread reads schedules for people: a cron expression or descriptor, as the
// engine accepts it, in plain English or Russian ("At 09:00 on Monday through Friday",
// "В 09:00 с понедельника по пятницу"); the builder's schedule presets and their cron
// expressions both ways; and the next times a schedule fires in a time zone.
//
// Every expression is parsed by the engine's own parser (engine/workflow.ParseSchedule),
// so exactly what the engine accepts is read, with the engine's meaning: robfig/cron's
// five fields and descriptors, and @every ticks aligned to whole multiples of the
// interval. Common shapes get a natural sentence; anything else is read field by field,
// literally, rather than guessed at.
package cronread

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Languages Describe writes.
const (
	LangEnglish = "en"
	LangRussian = "ru"
)

// Describe reads a schedule ("*/15 * * * *", "0 9 * * 1-5", "@daily", "@every 90s") in
// lang, LangEnglish or LangRussian ("" is English; "ru-RU" is Russian). An expression the
// engine would refuse is an error with the engine's message.
func Describe(spec, lang string) (string, error) {
	l, err := language(lang)
	if err != nil {
		return "", err
	}
	s, err := read(spec)
	if err != nil {
		return "", err
	}
	if s.every > 0 {
		return capitalize(l.every(s.every)), nil
	}
	return capitalize(l.sentence(analyze(s))), nil
}

func language(lang string) (lang_, error) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	base, _, _ = strings.Cut(base, "_")
	switch base {
	case "", LangEnglish:
		return english{}, nil
	case LangRussian:
		return russian{}, nil
	}
	return nil, fmt.Errorf("unsupported language %q (use %q or %q)", lang, LangEnglish, LangRussian)
}

// lang_ writes the parts of a reading in one language.
type lang_ interface {
	every(d time.Duration) string
	sentence(r reading) string
}

// Kinds of time phrase.
const (
	timeEvery      = iota // every n minutes (hours) through the day
	timeEveryRange        // every n minutes (hours) from HH:MM to HH:MM
	timePastHour          // at minute m past every hour
	timeAt                // at HH:MM, HH:MM and HH:MM
	timeLiteral           // the minute and hour fields read literally
)

// reading is what a cron expression says, ready to be put into words.
type reading struct {
	kind     int
	n        int    // timeEvery, timeEveryRange: the step
	unit     string // timeEvery, timeEveryRange: "minute" or "hour"
	from, to clock  // timeEveryRange
	minute   int    // timePastHour
	times    []clock
	mins     []int // timeLiteral
	hours    []int // timeLiteral
	days     days
	months   []int // nil when every month
}

// clock is a time of day.
type clock struct{ h, m int }

func (c clock) String() string { return fmt.Sprintf("%02d:%02d", c.h, c.m) }

// at reports whether the time phrase names moments of the day ("at 09:00") rather than a
// frequency ("every 15 minutes", "at minute 5 past every hour"), which decides how the
// days are added.
func (r reading) at() bool {
	return r.kind == timeAt || (r.kind == timeLiteral && !r.literalEvery() && len(r.hours) < 24)
}

// literalEvery reports whether a literal reading's minutes are every n minutes from the
// top of the hour (every minute included).
func (r reading) literalEvery() bool {
	_, ok := cyclic(r.mins, 60)
	return ok && r.mins[0] == 0
}

// How many times of day are listed: up to preferListed they are listed rather than
// described as a frequency ("at 09:00 and 18:00"); up to maxListed they are listed when no
// frequency describes them.
const (
	preferListed = 3
	maxListed    = 8
)

func analyze(s schedule) reading {
	mins, hours := values(s.spec.Minute, 0, 59), values(s.spec.Hour, 0, 23)
	r := reading{days: daysOf(s.spec), months: values(s.spec.Month, 1, 12)}
	if len(r.months) == 12 {
		r.months = nil
	}
	fullHours := len(hours) == 24
	hourRange := len(hours) == 1
	if step, ok := progression(hours); ok && step == 1 {
		hourRange = true
	}
	mStep, mCyclic := cyclic(mins, 60)
	var times []clock
	if len(mins)*len(hours) <= maxListed {
		for _, h := range hours {
			for _, m := range mins {
				times = append(times, clock{h, m})
			}
		}
	}
	switch {
	case mCyclic && fullHours:
		if mins[0] == 0 {
			r.kind, r.n, r.unit = timeEvery, mStep, "minute"
		} else {
			r.kind, r.n, r.unit = timeEveryRange, mStep, "minute"
			r.from, r.to = clock{0, mins[0]}, clock{23, mins[len(mins)-1]}
		}
	case len(mins) == 1 && fullHours:
		if mins[0] == 0 {
			r.kind, r.n, r.unit = timeEvery, 1, "hour"
		} else {
			r.kind, r.minute = timePastHour, mins[0]
		}
	case times != nil && len(times) <= preferListed:
		r.kind, r.times = timeAt, times
	case mCyclic && hourRange:
		r.kind, r.n, r.unit = timeEveryRange, mStep, "minute"
		r.from, r.to = clock{hours[0], mins[0]}, clock{hours[len(hours)-1], mins[len(mins)-1]}
	case len(mins) == 1 && len(hours) > 1 && isProgression(hours):
		step, _ := progression(hours)
		if hStep, ok := cyclic(hours, 24); ok && hours[0] == 0 && mins[0] == 0 {
			r.kind, r.n, r.unit = timeEvery, hStep, "hour"
		} else {
			r.kind, r.n, r.unit = timeEveryRange, step, "hour"
			r.from, r.to = clock{hours[0], mins[0]}, clock{hours[len(hours)-1], mins[0]}
		}
	case times != nil:
		r.kind, r.times = timeAt, times
	default:
		r.kind, r.mins, r.hours = timeLiteral, mins, hours
	}
	return r
}

func isProgression(vs []int) bool {
	_, ok := progression(vs)
	return ok
}

// items groups sorted values into runs: three or more consecutive values make one run.
func items(vs []int) [][2]int {
	var out [][2]int
	for i := 0; i < len(vs); {
		j := i
		for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
			j++
		}
		if j-i >= 2 {
			out = append(out, [2]int{vs[i], vs[j]})
			i = j + 1
			continue
		}
		out = append(out, [2]int{vs[i], vs[i]})
		i++
	}
	return out
}

// numberList writes values as "1, 5–9 and 12".
func numberList(vs []int, and string) string {
	var parts []string
	for _, it := range items(vs) {
		if it[0] == it[1] {
			parts = append(parts, strconv.Itoa(it[0]))
		} else {
			parts = append(parts, strconv.Itoa(it[0])+"–"+strconv.Itoa(it[1]))
		}
	}
	return joinList(parts, and)
}

// joinList joins "a, b and c".
func joinList(parts []string, and string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + and + " " + parts[len(parts)-1]
}

func timeList(ts []clock, and string) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.String()
	}
	return joinList(parts, and)
}

// mondayFirst orders days of the week from Monday, so Saturday and Sunday stay together.
func mondayFirst(dow []int) []int {
	out := make([]int, 0, len(dow))
	for _, d := range dow {
		if d != 0 {
			out = append(out, d)
		}
	}
	if len(dow) > 0 && dow[0] == 0 {
		out = append(out, 7)
	}
	return out
}

// splitDuration writes an @every interval in its largest whole unit.
func splitDuration(d time.Duration) (n int, unit string) {
	switch {
	case d%(24*time.Hour) == 0:
		return int(d / (24 * time.Hour)), "day"
	case d%time.Hour == 0:
		return int(d / time.Hour), "hour"
	case d%time.Minute == 0:
		return int(d / time.Minute), "minute"
	}
	return int(d / time.Second), "second"
}

func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}
