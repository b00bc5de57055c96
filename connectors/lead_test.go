package connectors

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, country, want string
	}{
		{"8 (999) 123-45-67", "+7", "+79991234567"},
		{"8 (999) 123-45-67", "", "+79991234567"},
		{"+7 999 123 45 67", "+7", "+79991234567"},
		{"7 999 123-45-67", "RU", "+79991234567"},
		{"999 123-45-67", "+7", "+79991234567"},
		{"+7 (999) 123-45-67 доб. 12", "+7", "+79991234567"},
		{"8 701 123 45 67", "KZ", "+77011234567"},
		{"0044 20 7946 0958", "+7", "+442079460958"},
		{"020 7946 0958", "GB", "+442079460958"},
		{"(415) 555-2671", "US", "+14155552671"},
		{"1 415 555 2671", "+1", "+14155552671"},
		{"+49 30 901820", "+7", "+4930901820"},
		{"030 901820", "49", "+4930901820"},
		{"+375 29 123-45-67", "+7", "+375291234567"},
	} {
		got, err := NormalizePhone(tc.raw, tc.country)
		require.NoError(t, err, "%q with %q", tc.raw, tc.country)
		require.Equal(t, tc.want, got, "%q with %q", tc.raw, tc.country)
	}
	for _, bad := range []string{"", "call me", "12345", "+7 999 123 45 67 89 01 23", "8-999-ABC"} {
		_, err := NormalizePhone(bad, "+7")
		require.ErrorIs(t, err, ErrNotAPhone, bad)
	}
	_, err := NormalizePhone("999 123 45 67", "Narnia")
	require.ErrorContains(t, err, "default country")
}

func TestParseLead(t *testing.T) {
	t.Parallel()
	l, err := ParseLead(map[string]any{
		"name": "  Анна   Мария  Иванова ", "email": " Anna@Example.COM ", "phone": "8 (999) 123-45-67",
		"utm_source": "yandex", "utm_campaign": " spring ", "utm_term": "",
	}, "+7")
	require.NoError(t, err)
	require.Equal(t, Lead{Name: "Анна Мария Иванова", FirstName: "Анна Мария", LastName: "Иванова",
		Email: "anna@example.com", Phone: "+79991234567",
		UTM: map[string]string{"utm_source": "yandex", "utm_campaign": "spring"}}, l)

	l, err = ParseLead(map[string]any{"first_name": "Ann", "last_name": "Lee", "phone": 79991234567}, "")
	require.NoError(t, err)
	require.Equal(t, "Ann Lee", l.Name)
	require.Equal(t, "+79991234567", l.Phone, "a number sent as a JSON number")

	_, err = ParseLead(map[string]any{"phone": "n/a"}, "+7")
	require.True(t, IsPermanent(err), "a phone that is not one is not retried")

	email, phone := l.SearchBy(DedupeEmailOrPhone)
	require.Equal(t, "", email)
	require.Equal(t, "+79991234567", phone)
	_, phone = l.SearchBy(DedupeNone)
	require.Empty(t, phone)

	mode, err := DedupeMode(map[string]any{}, DedupeEmailOrPhone)
	require.NoError(t, err)
	require.Equal(t, DedupeEmailOrPhone, mode)
	_, err = DedupeMode(map[string]any{"dedupe": "name"}, DedupeEmailOrPhone)
	require.True(t, IsPermanent(err))
}

func TestLeadFieldsAreValidSpecs(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(&Connector{Name: "crm", Title: "CRM", Connection: []Field{DefaultCountryField},
		Actions: []*ActionDef{{ActionSpec: ActionSpec{Name: "create", Title: "Create", Inputs: LeadFields(DedupeEmailOrPhone)},
			New: func() Action { return nil }}}}))
}
