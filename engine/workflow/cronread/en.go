package cronread

import (
	"strconv"
	"strings"
	"time"
)

type english struct{}

var (
	weekdaysEN = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	monthsEN   = [...]string{"", "January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
)

func (english) every(d time.Duration) string {
	n, unit := splitDuration(d)
	return english{}.count(n, unit)
}

// count writes "every minute", "every 15 minutes".
func (english) count(n int, unit string) string {
	if n == 1 {
		return "every " + unit
	}
	return "every " + strconv.Itoa(n) + " " + unit + "s"
}

func (e english) timePhrase(r reading) string {
	switch r.kind {
	case timeEvery:
		return e.count(r.n, r.unit)
	case timeEveryRange:
		return e.count(r.n, r.unit) + " from " + r.from.String() + " to " + r.to.String()
	case timePastHour:
		return "at minute " + strconv.Itoa(r.minute) + " past every hour"
	case timeAt:
		return "at " + timeList(r.times, "and")
	}
	var minutes string
	every := r.literalEvery()
	switch step, _ := cyclic(r.mins, 60); {
	case every:
		minutes = e.count(step, "minute")
	case len(r.mins) == 1:
		minutes = "at minute " + strconv.Itoa(r.mins[0])
	default:
		minutes = "at minutes " + numberList(r.mins, "and")
	}
	hours := "hours "
	if len(r.hours) == 1 {
		hours = "hour "
	}
	hours += numberList(r.hours, "and")
	switch {
	case len(r.hours) == 24 && every:
		return minutes
	case len(r.hours) == 24:
		return minutes + " past every hour"
	case every:
		return minutes + " during " + hours
	}
	return minutes + " past " + hours
}

func (e english) sentence(r reading) string {
	t := e.timePhrase(r)
	d := r.days
	var s string
	switch {
	case !r.at():
		s = t
		if !d.every {
			s += " " + e.dayPhrase(d)
		}
	case d.every:
		s = "every day " + t
	case len(d.dom) == 1 && len(r.months) == 1 && d.dow == nil:
		return "every year on " + monthsEN[r.months[0]] + " " + strconv.Itoa(d.dom[0]) + " " + t
	case d.dow == nil:
		s = e.dayPhrase(d) + " " + t
	default:
		s = t + " " + e.dayPhrase(d)
	}
	if r.months != nil {
		s += " " + e.monthPhrase(r.months)
	}
	return s
}

// dayPhrase writes "on Monday through Friday", "on day 1 of the month", or both.
func (english) dayPhrase(d days) string {
	var parts []string
	if d.dom != nil {
		if len(d.dom) == 1 {
			parts = append(parts, "on day "+strconv.Itoa(d.dom[0])+" of the month")
		} else {
			list := strings.ReplaceAll(numberList(d.dom, "and"), "–", " through ")
			parts = append(parts, "on days "+list+" of the month")
		}
	}
	if d.dow != nil {
		parts = append(parts, "on "+namedList(mondayFirst(d.dow), weekdaysEN[:], "and", " through "))
	}
	return strings.Join(parts, " and ")
}

func (english) monthPhrase(months []int) string {
	return "in " + namedList(months, monthsEN[:], "and", " through ")
}

// namedList writes values by name, runs of three or more as "first through last".
func namedList(vs []int, names []string, and, through string) string {
	var parts []string
	for _, it := range items(vs) {
		if it[0] == it[1] {
			parts = append(parts, names[it[0]])
		} else {
			parts = append(parts, names[it[0]]+through+names[it[1]])
		}
	}
	return joinList(parts, and)
}
