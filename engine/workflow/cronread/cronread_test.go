package cronread_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/engine/workflow/cronread"
)

func TestPluralRU(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{
		0: "минут", 1: "минуту", 2: "минуты", 3: "минуты", 4: "минуты", 5: "минут", 11: "минут",
		12: "минут", 14: "минут", 15: "минут", 20: "минут", 21: "минуту", 22: "минуты", 25: "минут",
		101: "минуту", 104: "минуты", 111: "минут", 112: "минут", 1001: "минуту", -2: "минуты",
	} {
		require.Equal(t, want, cronread.PluralRU(n, "минуту", "минуты", "минут"), "%d", n)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, en, ru string }{
		{"*/15 * * * *", "Every 15 minutes", "Каждые 15 минут"},
		{"* * * * *", "Every minute", "Каждую минуту"},
		{"*/2 * * * *", "Every 2 minutes", "Каждые 2 минуты"},
		{"0 * * * *", "Every hour", "Каждый час"},
		{"30 * * * *", "At minute 30 past every hour", "В 30 минут каждого часа"},
		{"1 * * * *", "At minute 1 past every hour", "В 1 минуту каждого часа"},
		{"0 9 * * *", "Every day at 09:00", "Каждый день в 09:00"},
		{"2 3 * * *", "Every day at 03:02", "Каждый день в 03:02"},
		{"0 9 * * 1-5", "At 09:00 on Monday through Friday", "В 09:00 с понедельника по пятницу"},
		{"0 9 * * MON-FRI", "At 09:00 on Monday through Friday", "В 09:00 с понедельника по пятницу"},
		{"0 9 ? * 2-4", "At 09:00 on Tuesday through Thursday", "В 09:00 со вторника по четверг"},
		{"0 9 * * 3-5", "At 09:00 on Wednesday through Friday", "В 09:00 со среды по пятницу"},
		{"0 9 * * 6,0", "At 09:00 on Saturday and Sunday", "В 09:00 по субботам и воскресеньям"},
		{"0 9 * * 5,6,0", "At 09:00 on Friday through Sunday", "В 09:00 с пятницы по воскресенье"},
		{"0 9 * * 1,3,5", "At 09:00 on Monday, Wednesday and Friday", "В 09:00 по понедельникам, средам и пятницам"},
		{"0 12 * * 0", "At 12:00 on Sunday", "В 12:00 по воскресеньям"},
		{"0 0 1 * *", "On day 1 of the month at 00:00", "1-го числа каждого месяца в 00:00"},
		{"0 9 1,15 * *", "On days 1 and 15 of the month at 09:00", "1-го и 15-го числа каждого месяца в 09:00"},
		{"0 9 1-5 * *", "On days 1 through 5 of the month at 09:00", "С 1-го по 5-е число каждого месяца в 09:00"},
		{"0 9 1-5,10,20 * *", "On days 1 through 5, 10 and 20 of the month at 09:00", "В дни месяца 1–5, 10 и 20 в 09:00"},
		{"0 0 1 1 *", "Every year on January 1 at 00:00", "Каждый год 1 января в 00:00"},
		{"0 9 * 1-3 *", "Every day at 09:00 in January through March", "Каждый день с января по март в 09:00"},
		{"0 9 * 1,7 *", "Every day at 09:00 in January and July", "Каждый день в январе и июле в 09:00"},
		{"0 9 1 1,7 *", "On day 1 of the month at 09:00 in January and July", "1-го числа в январе и июле в 09:00"},
		{"*/10 * * 12 *", "Every 10 minutes in December", "Каждые 10 минут в декабре"},
		{"0 9,18 * * *", "Every day at 09:00 and 18:00", "Каждый день в 09:00 и 18:00"},
		{"0,30 9 * * *", "Every day at 09:00 and 09:30", "Каждый день в 09:00 и 09:30"},
		{"0,30 9,12,15 * * *", "Every day at 09:00, 09:30, 12:00, 12:30, 15:00 and 15:30",
			"Каждый день в 09:00, 09:30, 12:00, 12:30, 15:00 и 15:30"},
		{"0 */2 * * *", "Every 2 hours", "Каждые 2 часа"},
		{"0 */6 * * *", "Every 6 hours", "Каждые 6 часов"},
		{"30 */2 * * *", "Every 2 hours from 00:30 to 22:30", "Каждые 2 часа с 00:30 до 22:30"},
		{"0 9-17 * * *", "Every hour from 09:00 to 17:00", "Каждый час с 09:00 до 17:00"},
		{"*/15 9-17 * * 1-5", "Every 15 minutes from 09:00 to 17:45 on Monday through Friday",
			"Каждые 15 минут с 09:00 до 17:45 с понедельника по пятницу"},
		{"5/15 * * * *", "Every 15 minutes from 00:05 to 23:50", "Каждые 15 минут с 00:05 до 23:50"},
		{"* 9 * * *", "Every minute from 09:00 to 09:59", "Каждую минуту с 09:00 до 09:59"},
		{"0 * * * 1-5", "Every hour on Monday through Friday", "Каждый час с понедельника по пятницу"},
		// Day of month and day of week both restricted: either one is enough, as in crontab.
		{"0 9 1 * 1", "At 09:00 on day 1 of the month and on Monday", "В 09:00 1-го числа каждого месяца и по понедельникам"},
		// A full day of month with a day of week restricted matches every day.
		{"0 9 1-31 * 1-5", "Every day at 09:00", "Каждый день в 09:00"},
		// Descriptors.
		{"@yearly", "Every year on January 1 at 00:00", "Каждый год 1 января в 00:00"},
		{"@annually", "Every year on January 1 at 00:00", "Каждый год 1 января в 00:00"},
		{"@monthly", "On day 1 of the month at 00:00", "1-го числа каждого месяца в 00:00"},
		{"@weekly", "At 00:00 on Sunday", "В 00:00 по воскресеньям"},
		{"@daily", "Every day at 00:00", "Каждый день в 00:00"},
		{"@midnight", "Every day at 00:00", "Каждый день в 00:00"},
		{"@hourly", "Every hour", "Каждый час"},
		{"@every 15m", "Every 15 minutes", "Каждые 15 минут"},
		{"@every 1m", "Every minute", "Каждую минуту"},
		{"@every 21m", "Every 21 minutes", "Каждые 21 минуту"},
		{"@every 22m", "Every 22 minutes", "Каждые 22 минуты"},
		{"@every 90s", "Every 90 seconds", "Каждые 90 секунд"},
		{"@every 1s", "Every second", "Каждую секунду"},
		{"@every 1h30m", "Every 90 minutes", "Каждые 90 минут"},
		{"@every 1h", "Every hour", "Каждый час"},
		{"@every 48h", "Every 2 days", "Каждые 2 дня"},
		// Unusual shapes are read literally.
		{"*/7 * * * *", "At minutes 0, 7, 14, 21, 28, 35, 42, 49 and 56 past every hour",
			"В минуты 0, 7, 14, 21, 28, 35, 42, 49 и 56 каждого часа"},
		{"0-30 * * * *", "At minutes 0–30 past every hour", "В минуты 0–30 каждого часа"},
		{"5 9-17,20 * * *", "Every day at minute 5 past hours 9–17 and 20", "Каждый день в 5 минут в часы 9–17 и 20"},
		{"*/15 9,12,15 * * *", "Every 15 minutes during hours 9, 12 and 15", "Каждые 15 минут в часы 9, 12 и 15"},
		{"7,8,9 1,3,5,7,9 * * 1", "At minutes 7–9 past hours 1, 3, 5, 7 and 9 on Monday",
			"В минуты 7–9 в часы 1, 3, 5, 7 и 9 по понедельникам"},
		{"  0 9 * * *  ", "Every day at 09:00", "Каждый день в 09:00"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			en, err := cronread.Describe(tc.spec, "en")
			require.NoError(t, err)
			require.Equal(t, tc.en, en)
			ru, err := cronread.Describe(tc.spec, "ru")
			require.NoError(t, err)
			require.Equal(t, tc.ru, ru)
		})
	}
}

func TestDescribeLanguages(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string]string{"": "Every hour", "EN": "Every hour", "en-GB": "Every hour", "ru-RU": "Каждый час", "ru_RU": "Каждый час"} {
		got, err := cronread.Describe("@hourly", lang)
		require.NoError(t, err)
		require.Equal(t, want, got, lang)
	}
	_, err := cronread.Describe("@hourly", "de")
	require.EqualError(t, err, `unsupported language "de" (use "en" or "ru")`)
}

// TestDescribeRefuses returns the engine's own errors for what the engine refuses.
func TestDescribeRefuses(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"", "* * * *", "0 0 0 * * *", "15 10 * * 5-7", "0 9 31 2 *", "@every 500ms", "@every 1.5s", "@often", "TZ=Europe/Moscow 0 9 * * *"} {
		_, err := cronread.Describe(spec, "en")
		var se *workflow.ScheduleError
		require.ErrorAs(t, err, &se, spec)
	}
}

// FuzzDescribe: every expression the engine accepts gets a sentence in both languages,
// without formatting leftovers.
func FuzzDescribe(f *testing.F) {
	for _, s := range []string{"*/15 * * * *", "0 9 * * 1-5", "5/15 9-17 1,15 1-3 0,6", "@every 90s", "0-59/7 */5 ? * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		if _, err := workflow.ParseSchedule(spec, ""); err != nil {
			return
		}
		for _, lang := range []string{"en", "ru"} {
			s, err := cronread.Describe(spec, lang)
			require.NoError(t, err, spec)
			require.NotEmpty(t, s)
			require.NotContains(t, s, "%!", spec)
			require.NotContains(t, s, "  ", spec)
			require.Equal(t, strings.TrimSpace(s), s, spec)
		}
	})
}
