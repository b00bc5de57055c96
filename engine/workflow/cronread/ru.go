package cronread

import (
	"strconv"
	"strings"
	"time"
)

type russian struct{}

// Days of the week, index 0 and 7 Sunday: genitive (с понедельника), accusative
// (по пятницу) and dative plural (по понедельникам).
var (
	weekdaysGenRU = [...]string{"воскресенья", "понедельника", "вторника", "среды", "четверга", "пятницы", "субботы", "воскресенья"}
	weekdaysAccRU = [...]string{"воскресенье", "понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"}
	weekdaysDatRU = [...]string{"воскресеньям", "понедельникам", "вторникам", "средам", "четвергам", "пятницам", "субботам", "воскресеньям"}
)

// Months: prepositional (в январе), genitive (с января, 1 января) and accusative
// (по март).
var (
	monthsPrepRU = [...]string{"", "январе", "феврале", "марте", "апреле", "мае", "июне", "июле",
		"августе", "сентябре", "октябре", "ноябре", "декабре"}
	monthsGenRU = [...]string{"", "января", "февраля", "марта", "апреля", "мая", "июня", "июля",
		"августа", "сентября", "октября", "ноября", "декабря"}
	monthsAccRU = [...]string{"", "январь", "февраль", "март", "апрель", "май", "июнь", "июль",
		"август", "сентябрь", "октябрь", "ноябрь", "декабрь"}
)

// unitsRU holds each unit's forms: "каждую минуту" / "каждый час" for one, and the
// accusative forms after a number (1 минуту, 2 минуты, 5 минут).
var unitsRU = map[string]struct{ each, one, few, many string }{
	"second": {"каждую секунду", "секунду", "секунды", "секунд"},
	"minute": {"каждую минуту", "минуту", "минуты", "минут"},
	"hour":   {"каждый час", "час", "часа", "часов"},
	"day":    {"каждый день", "день", "дня", "дней"},
}

func (russian) every(d time.Duration) string {
	n, unit := splitDuration(d)
	return russian{}.count(n, unit)
}

// count writes "каждую минуту", "каждые 15 минут", "каждые 2 часа".
func (russian) count(n int, unit string) string {
	u := unitsRU[unit]
	if n == 1 {
		return u.each
	}
	return "каждые " + strconv.Itoa(n) + " " + PluralRU(n, u.one, u.few, u.many)
}

// minutes writes "5 минут", "1 минуту".
func minutesRU(n int) string {
	u := unitsRU["minute"]
	return strconv.Itoa(n) + " " + PluralRU(n, u.one, u.few, u.many)
}

func (ru russian) timePhrase(r reading) string {
	switch r.kind {
	case timeEvery:
		return ru.count(r.n, r.unit)
	case timeEveryRange:
		return ru.count(r.n, r.unit) + " с " + r.from.String() + " до " + r.to.String()
	case timePastHour:
		return "в " + minutesRU(r.minute) + " каждого часа"
	case timeAt:
		return "в " + timeList(r.times, "и")
	}
	var minutes string
	every := r.literalEvery()
	switch step, _ := cyclic(r.mins, 60); {
	case every:
		minutes = ru.count(step, "minute")
	case len(r.mins) == 1:
		minutes = "в " + minutesRU(r.mins[0])
	default:
		minutes = "в минуты " + numberList(r.mins, "и")
	}
	switch {
	case len(r.hours) == 24 && every:
		return minutes
	case len(r.hours) == 24:
		return minutes + " каждого часа"
	case len(r.hours) == 1:
		return minutes + " в час " + strconv.Itoa(r.hours[0])
	}
	return minutes + " в часы " + numberList(r.hours, "и")
}

func (ru russian) sentence(r reading) string {
	t := ru.timePhrase(r)
	d := r.days
	months := ""
	if r.months != nil {
		months = " " + ru.monthPhrase(r.months)
	}
	switch {
	case !r.at():
		if d.every {
			return t + months
		}
		return t + " " + ru.dayPhrase(d, r.months == nil) + months
	case d.every:
		return "каждый день" + months + " " + t
	case len(d.dom) == 1 && len(r.months) == 1 && d.dow == nil:
		return "каждый год " + strconv.Itoa(d.dom[0]) + " " + monthsGenRU[r.months[0]] + " " + t
	case d.dow == nil:
		return ru.dayPhrase(d, r.months == nil) + months + " " + t
	}
	return t + " " + ru.dayPhrase(d, r.months == nil) + months
}

// dayPhrase writes "с понедельника по пятницу", "1-го числа каждого месяца" or both.
// everyMonth adds "каждого месяца" to the days of the month.
func (russian) dayPhrase(d days, everyMonth bool) string {
	var parts []string
	if d.dom != nil {
		parts = append(parts, domRU(d.dom, everyMonth))
	}
	if d.dow != nil {
		parts = append(parts, dowRU(mondayFirst(d.dow)))
	}
	return strings.Join(parts, " и ")
}

// domRU writes days of the month: "1-го числа", "1-го и 15-го числа", "с 1-го по 5-е
// число"; other sets literally, "в дни месяца 1–5, 10 и 20".
func domRU(dom []int, everyMonth bool) string {
	its := items(dom)
	suffix := ""
	if everyMonth {
		suffix = " каждого месяца"
	}
	if len(its) == 1 && its[0][0] != its[0][1] {
		return "с " + strconv.Itoa(its[0][0]) + "-го по " + strconv.Itoa(its[0][1]) + "-е число" + suffix
	}
	for _, it := range its {
		if it[0] != it[1] {
			return "в дни месяца " + numberList(dom, "и")
		}
	}
	parts := make([]string, len(dom))
	for i, v := range dom {
		parts[i] = strconv.Itoa(v) + "-го"
	}
	return joinList(parts, "и") + " числа" + suffix
}

// dowRU writes days of the week: one run of three or more as "с понедельника по
// пятницу" ("со вторника", "со среды"), anything else as "по понедельникам и средам".
func dowRU(dow []int) string {
	its := items(dow)
	if len(its) == 1 && its[0][0] != its[0][1] {
		from := weekdaysGenRU[its[0][0]]
		prep := "с "
		if strings.HasPrefix(from, "вт") || strings.HasPrefix(from, "ср") {
			prep = "со "
		}
		return prep + from + " по " + weekdaysAccRU[its[0][1]]
	}
	parts := make([]string, len(dow))
	for i, v := range dow {
		parts[i] = weekdaysDatRU[v]
	}
	return "по " + joinList(parts, "и")
}

// monthPhrase writes "в январе", "с января по март", "в январе, марте и июле".
func (russian) monthPhrase(months []int) string {
	its := items(months)
	if len(its) == 1 && its[0][0] != its[0][1] {
		return "с " + monthsGenRU[its[0][0]] + " по " + monthsAccRU[its[0][1]]
	}
	parts := make([]string, len(months))
	for i, v := range months {
		parts[i] = monthsPrepRU[v]
	}
	return "в " + joinList(parts, "и")
}
