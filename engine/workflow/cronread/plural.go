package cronread

// PluralRU picks the Russian form of a noun for the count n by the CLDR rules for
// Russian integers: one (1, 21, 101 — but not 11), few (2–4, 22–24 — but not 12–14),
// many (everything else: 0, 5–20, 25–30, 111). PluralRU(5, "минуту", "минуты", "минут")
// is "минут".
func PluralRU(n int, one, few, many string) string {
	if n < 0 {
		n = -n
	}
	mod10, mod100 := n%10, n%100
	switch {
	case mod10 == 1 && mod100 != 11:
		return one
	case mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14):
		return few
	default:
		return many
	}
}
