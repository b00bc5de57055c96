package cronread

import (
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine/workflow"
)

// Preset kinds: the schedules the builder offers as forms.
const (
	PresetEveryMinutes = "every_minutes" // Every
	PresetHourly       = "hourly"        // Minute
	PresetDaily        = "daily"         // Hour, Minute
	PresetWeekdays     = "weekdays"      // Hour, Minute; Monday through Friday
	PresetWeekly       = "weekly"        // Weekday, Hour, Minute
	PresetMonthly      = "monthly"       // Day, Hour, Minute
)

// Params are a preset's settings; each kind reads the ones listed beside it.
type Params struct {
	Every   int          `json:"every,omitempty"` // minutes between runs, 1 to 1440
	Hour    int          `json:"hour"`            // 0 to 23
	Minute  int          `json:"minute"`          // 0 to 59
	Weekday time.Weekday `json:"weekday"`         // 0 Sunday to 6 Saturday
	Day     int          `json:"day,omitempty"`   // day of the month, 1 to 31
}

// PresetInfo describes a preset for the builder's menu.
type PresetInfo struct {
	Kind  string
	Label map[string]string // by language: "en", "ru"
	// Params names the Params fields the kind reads, in form order: "every", "minute",
	// "time" (Hour and Minute), "weekday", "day".
	Params []string
}

// Presets lists the schedule presets in the order the builder offers them.
var Presets = []PresetInfo{
	{PresetEveryMinutes, map[string]string{"en": "Every N minutes", "ru": "Каждые N минут"}, []string{"every"}},
	{PresetHourly, map[string]string{"en": "Every hour at minute", "ru": "Каждый час в заданную минуту"}, []string{"minute"}},
	{PresetDaily, map[string]string{"en": "Every day at", "ru": "Каждый день в"}, []string{"time"}},
	{PresetWeekdays, map[string]string{"en": "Weekdays at", "ru": "По будним дням в"}, []string{"time"}},
	{PresetWeekly, map[string]string{"en": "Every week on", "ru": "Каждую неделю в"}, []string{"weekday", "time"}},
	{PresetMonthly, map[string]string{"en": "Every month on day", "ru": "Каждый месяц, число"}, []string{"day", "time"}},
}

// PresetSpec returns the cron expression of a preset. Every N minutes is "*/N * * * *"
// when N divides an hour, so runs fall on the clock (:00, :15, ...) in the trigger's time
// zone, and "@every Nm" otherwise; days of the month past 28 skip the months without
// them.
func PresetSpec(kind string, p Params) (string, error) {
	clock := func() error {
		if p.Hour < 0 || p.Hour > 23 {
			return fmt.Errorf("hour %d is not between 0 and 23", p.Hour)
		}
		if p.Minute < 0 || p.Minute > 59 {
			return fmt.Errorf("minute %d is not between 0 and 59", p.Minute)
		}
		return nil
	}
	switch kind {
	case PresetEveryMinutes:
		switch {
		case p.Every < 1 || p.Every > 1440:
			return "", fmt.Errorf("every %d minutes: give 1 to 1440 minutes", p.Every)
		case p.Every == 1:
			return "* * * * *", nil
		case 60%p.Every == 0:
			return fmt.Sprintf("*/%d * * * *", p.Every), nil
		}
		return fmt.Sprintf("@every %dm", p.Every), nil
	case PresetHourly:
		if p.Minute < 0 || p.Minute > 59 {
			return "", fmt.Errorf("minute %d is not between 0 and 59", p.Minute)
		}
		return fmt.Sprintf("%d * * * *", p.Minute), nil
	case PresetDaily, PresetWeekdays, PresetWeekly, PresetMonthly:
		if err := clock(); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("unknown schedule preset %q", kind)
	}
	at := fmt.Sprintf("%d %d", p.Minute, p.Hour)
	switch kind {
	case PresetWeekdays:
		return at + " * * 1-5", nil
	case PresetWeekly:
		if p.Weekday < time.Sunday || p.Weekday > time.Saturday {
			return "", fmt.Errorf("weekday %d is not between 0 (Sunday) and 6 (Saturday)", p.Weekday)
		}
		return fmt.Sprintf("%s * * %d", at, p.Weekday), nil
	case PresetMonthly:
		if p.Day < 1 || p.Day > 31 {
			return "", fmt.Errorf("day %d is not between 1 and 31", p.Day)
		}
		return fmt.Sprintf("%s %d * *", at, p.Day), nil
	}
	return at + " * * *", nil
}

// PresetOf returns the preset a schedule is, when it is one: an expression that runs at
// the same times as PresetSpec's for that preset ("0 9 * * MON-FRI" is weekdays at 09:00,
// "@daily" daily at 00:00). Otherwise ok is false and the builder shows the raw
// expression.
func PresetOf(spec string) (kind string, p Params, ok bool) {
	s, err := read(spec)
	if err != nil {
		return "", Params{}, false
	}
	kind, p = guess(s)
	if kind == "" {
		return "", Params{}, false
	}
	canonical, err := PresetSpec(kind, p)
	if err != nil {
		return "", Params{}, false
	}
	c, err := read(canonical)
	if err != nil || !same(s, c) {
		return "", Params{}, false
	}
	return kind, p, true
}

// guess names the preset a schedule could be; PresetOf then checks it.
func guess(s schedule) (string, Params) {
	if s.every > 0 {
		if s.every%time.Minute != 0 {
			return "", Params{}
		}
		return PresetEveryMinutes, Params{Every: int(s.every / time.Minute)}
	}
	mins, hours := values(s.spec.Minute, 0, 59), values(s.spec.Hour, 0, 23)
	if step, ok := cyclic(mins, 60); ok && mins[0] == 0 && len(hours) == 24 {
		return PresetEveryMinutes, Params{Every: step}
	}
	if len(mins) != 1 {
		return "", Params{}
	}
	if len(hours) == 24 {
		return PresetHourly, Params{Minute: mins[0]}
	}
	if len(hours) != 1 {
		return "", Params{}
	}
	p := Params{Hour: hours[0], Minute: mins[0]}
	d := daysOf(s.spec)
	switch {
	case d.every:
		return PresetDaily, p
	case d.union:
		return "", Params{}
	case len(d.dow) == 5 && d.dow[0] == 1 && d.dow[4] == 5:
		return PresetWeekdays, p
	case len(d.dow) == 1:
		p.Weekday = time.Weekday(d.dow[0])
		return PresetWeekly, p
	case len(d.dom) == 1:
		p.Day = d.dom[0]
		return PresetMonthly, p
	}
	return "", Params{}
}

// MaxNextTimes bounds NextTimes.
const MaxNextTimes = 1000

// NextTimes returns the next n times a schedule fires after from, in the time zone tz
// (an IANA name, "" for UTC), by the engine's own schedule: what a schedule trigger with
// this cron and timezone would do. It stops early if the schedule fires no more.
func NextTimes(spec, tz string, from time.Time, n int) ([]time.Time, error) {
	if n < 0 || n > MaxNextTimes {
		return nil, fmt.Errorf("asked for %d times: give 0 to %d", n, MaxNextTimes)
	}
	s, err := workflow.ParseSchedule(spec, tz)
	if err != nil {
		return nil, err
	}
	loc := time.UTC
	if tz != "" {
		if loc, err = time.LoadLocation(tz); err != nil {
			return nil, fmt.Errorf("load time zone %q: %w", tz, err)
		}
	}
	out := make([]time.Time, 0, n)
	t := from
	for len(out) < n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t.In(loc))
	}
	return out, nil
}
