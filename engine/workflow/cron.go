package workflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule gives the ticks of a schedule or poll trigger.
type Schedule interface {
	// Next returns the first tick strictly after t.
	Next(t time.Time) time.Time
}

// MinInterval is the shortest gap between ticks accepted.
const MinInterval = time.Second

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ScheduleError says what is wrong with a schedule: its cron expression, its time zone,
// or both. Both are checked, so that fixing one does not reveal the other.
type ScheduleError struct {
	Cron     error // nil when the expression is good
	Timezone error // nil when the time zone is good
}

func (e *ScheduleError) Error() string {
	switch {
	case e.Cron == nil:
		return e.Timezone.Error()
	case e.Timezone == nil:
		return e.Cron.Error()
	}
	return e.Cron.Error() + "; " + e.Timezone.Error()
}

// ParseSchedule reads a five-field cron expression or a descriptor (@daily, @every 5m)
// in the named IANA time zone ("" is UTC). An error is a *ScheduleError.
func ParseSchedule(spec, timezone string) (Schedule, error) {
	loc, tzErr := time.UTC, error(nil)
	if timezone != "" {
		l, err := time.LoadLocation(timezone)
		if err != nil {
			tzErr = fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/Moscow)", timezone)
		} else {
			loc = l
		}
	}
	// A bad time zone still lets the expression be checked, in UTC.
	s, cronErr := parseCron(strings.TrimSpace(spec), loc)
	if cronErr != nil || tzErr != nil {
		return nil, &ScheduleError{Cron: cronErr, Timezone: tzErr}
	}
	return s, nil
}

func parseCron(spec string, loc *time.Location) (Schedule, error) {
	if spec == "" {
		return nil, fmt.Errorf("is empty")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("give the time zone in timezone, not in the cron expression")
	}
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("@every needs a duration such as 5m: %w", err)
		}
		if d < MinInterval || d%time.Second != 0 {
			return nil, fmt.Errorf("@every needs a whole number of seconds, at least %s", MinInterval)
		}
		return every(d), nil
	}
	s, err := cronParser.Parse("CRON_TZ=" + loc.String() + " " + spec)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %w", spec, err)
	}
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("cron expression %q never fires", spec)
	}
	return s, nil
}

// every ticks at whole multiples of its interval (counted from Go's zero time). robfig's own
// @every counts from whenever it is asked, so two processes would disagree on the ticks;
// these are the same everywhere, which is what makes one slot per tick possible.
type every time.Duration

func (e every) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.Truncate(d).Add(d)
}

// Interval returns the gap of an @every schedule; ok is false for cron expressions, whose
// gaps vary.
func Interval(s Schedule) (d time.Duration, ok bool) {
	e, ok := s.(every)
	return time.Duration(e), ok
}
