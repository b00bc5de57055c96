package cronread

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/hookflow/hookflow/engine/workflow"
)

// starBit is robfig/cron's mark of a field written as * or ?; it decides how the day of
// month and the day of week combine.
const starBit = 1 << 63

// schedule is a schedule as the engine parsed it: an @every interval, or the value sets of
// a cron expression.
type schedule struct {
	every time.Duration // > 0 for @every
	spec  *cron.SpecSchedule
}

// read parses spec with the engine's own parser, so that exactly the expressions the
// engine accepts are read, with the same meaning.
func read(spec string) (schedule, error) {
	s, err := workflow.ParseSchedule(spec, "")
	if err != nil {
		return schedule{}, err
	}
	if d, ok := workflow.Interval(s); ok {
		return schedule{every: d}, nil
	}
	cs, ok := s.(*cron.SpecSchedule)
	if !ok {
		return schedule{}, fmt.Errorf("schedule %q: unexpected kind %T", spec, s)
	}
	return schedule{spec: cs}, nil
}

// values lists the members of a bit set between lo and hi.
func values(bits uint64, lo, hi int) []int {
	var out []int
	for v := lo; v <= hi; v++ {
		if bits&(1<<uint(v)) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// days is when a cron expression's days match, after robfig's rule: when the day of
// month or the day of week is written with * (or ?), both must match; when both are
// restricted, either one is enough, as in crontab.
type days struct {
	every bool  // every day
	dom   []int // days of the month, nil when they do not restrict
	dow   []int // days of the week (0 Sunday), nil when they do not restrict
	// union is set when dom and dow are both given and either one matches.
	union bool
}

func daysOf(s *cron.SpecSchedule) days {
	dom, dow := values(s.Dom, 1, 31), values(s.Dow, 0, 6)
	fullDom, fullDow := len(dom) == 31, len(dow) == 7
	if s.Dom&starBit != 0 || s.Dow&starBit != 0 {
		// Both must match; a starred field is full.
		switch {
		case fullDom && fullDow:
			return days{every: true}
		case fullDom:
			return days{dow: dow}
		case fullDow:
			return days{dom: dom}
		}
		// Not reachable: a starred field is full. Kept literal rather than guessed.
		return days{dom: dom, dow: dow}
	}
	if fullDom || fullDow {
		return days{every: true}
	}
	return days{dom: dom, dow: dow, union: true}
}

// dayTable lists, for each day of the month and day of the week, whether a schedule's
// days match: two schedules with the same table run on the same days.
func dayTable(s *cron.SpecSchedule) [32][7]bool {
	var t [32][7]bool
	star := s.Dom&starBit != 0 || s.Dow&starBit != 0
	for d := 1; d <= 31; d++ {
		for w := 0; w < 7; w++ {
			dm, wm := s.Dom&(1<<uint(d)) != 0, s.Dow&(1<<uint(w)) != 0
			if star {
				t[d][w] = dm && wm
			} else {
				t[d][w] = dm || wm
			}
		}
	}
	return t
}

// same reports whether two parsed schedules tick at the same times.
func same(a, b schedule) bool {
	if a.every > 0 || b.every > 0 {
		return a.every == b.every
	}
	const noStar = ^uint64(starBit)
	x, y := a.spec, b.spec
	return x.Minute&noStar == y.Minute&noStar && x.Hour&noStar == y.Hour&noStar &&
		x.Month&noStar == y.Month&noStar && dayTable(x) == dayTable(y)
}

// progression reports whether vs (sorted, at least two) are evenly spaced, and the step.
func progression(vs []int) (step int, ok bool) {
	if len(vs) < 2 {
		return 0, false
	}
	step = vs[1] - vs[0]
	for i := 2; i < len(vs); i++ {
		if vs[i]-vs[i-1] != step {
			return 0, false
		}
	}
	return step, true
}

// cyclic reports whether vs, values of a field that wraps after size (minutes after 60,
// hours after 24), tick at an even step all round: 5,20,35,50 is every 15 minutes, and so
// is 0..59 every minute. A single value is not cyclic.
func cyclic(vs []int, size int) (step int, ok bool) {
	if len(vs) == size {
		return 1, true
	}
	step, ok = progression(vs)
	if !ok || size%step != 0 || vs[0] >= step {
		return 0, false
	}
	return step, vs[len(vs)-1]+step >= size
}
