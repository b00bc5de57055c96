package body

import (
	"testing"
)

// amoCRMBody is the outgoing webhook example from the amoCRM contract.
const amoCRMBody = "leads[add][0][id]=3912171&leads[add][0][name]=Order+%231&leads[add][0][status_id]=142" +
	"&leads[add][0][pipeline_id]=123&leads[add][0][price]=1000&leads[add][0][responsible_user_id]=504141" +
	"&leads[add][0][created_at]=1700000000&leads[add][0][updated_at]=1700000000&leads[add][0][account_id]=29000000" +
	"&leads[add][0][custom_fields][0][id]=555&leads[add][0][custom_fields][0][values][0][value]=x" +
	"&account[id]=29000000&account[subdomain]=mycompany&account[_links][self]=https://mycompany.amocrm.ru"

func BenchmarkParseFormAmoCRM(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(amoCRMBody)))
	for b.Loop() {
		if _, _, err := ParseForm(amoCRMBody, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	raw := []byte(`{"_embedded":{"leads":[{"id":3912171,"name":"Order #1","price":1000,"status_id":142,` +
		`"pipeline_id":123,"created_at":1700000000,"custom_fields_values":[{"field_id":555,"values":[{"value":"x"}]}]}]},` +
		`"account":{"id":29000000,"subdomain":"mycompany"},"big":12345678901234567890,"ratio":0.25}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if r := Decode("application/json", raw, Options{}); r.Malformed {
			b.Fatal("malformed")
		}
	}
}
