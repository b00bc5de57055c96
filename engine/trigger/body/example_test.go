package body_test

import (
	"encoding/json"
	"fmt"

	"github.com/hookflow/hookflow/engine/trigger/body"
)

func ExampleParseForm() {
	v, _, err := body.ParseForm("leads[add][0][id]=1&leads[add][0][name]=x&account[subdomain]=y", body.Options{})
	if err != nil {
		panic(err)
	}
	out, _ := json.Marshal(v)
	fmt.Println(string(out))
	// Output: {"account":{"subdomain":"y"},"leads":{"add":[{"id":"1","name":"x"}]}}
}

func ExampleDecode() {
	r := body.Decode("application/json", []byte(`{"id":12345678901234567890,"n":1}`), body.Options{})
	fmt.Printf("%s %v %T\n", r.Format, r.Value, r.Value.(map[string]any)["n"])
	// Output: json map[id:12345678901234567890 n:1] int64
}
