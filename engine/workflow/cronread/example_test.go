package cronread_test

import (
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine/workflow/cronread"
)

func ExampleDescribe() {
	for _, spec := range []string{"*/15 * * * *", "0 9 * * 1-5", "0 0 1 * *"} {
		en, _ := cronread.Describe(spec, "en")
		ru, _ := cronread.Describe(spec, "ru")
		fmt.Printf("%s | %s | %s\n", spec, en, ru)
	}
	// Output:
	// */15 * * * * | Every 15 minutes | Каждые 15 минут
	// 0 9 * * 1-5 | At 09:00 on Monday through Friday | В 09:00 с понедельника по пятницу
	// 0 0 1 * * | On day 1 of the month at 00:00 | 1-го числа каждого месяца в 00:00
}

func ExamplePresetSpec() {
	spec, _ := cronread.PresetSpec(cronread.PresetWeekly, cronread.Params{Weekday: time.Monday, Hour: 9, Minute: 30})
	kind, p, ok := cronread.PresetOf(spec)
	fmt.Println(spec, kind, p.Weekday, p.Hour, p.Minute, ok)
	// Output:
	// 30 9 * * 1 weekly Monday 9 30 true
}

func ExampleNextTimes() {
	from := time.Date(2025, 5, 2, 10, 0, 0, 0, time.UTC)
	ts, _ := cronread.NextTimes("0 9 * * 1-5", "Europe/Moscow", from, 3)
	for _, t := range ts {
		fmt.Println(t.Format("Mon 2006-01-02 15:04 MST"))
	}
	// Output:
	// Mon 2025-05-05 09:00 MSK
	// Tue 2025-05-06 09:00 MSK
	// Wed 2025-05-07 09:00 MSK
}
