package condition_test

import (
	"fmt"

	"github.com/hookflow/hookflow/engine/workflow/condition"
)

func ExampleBuild() {
	filter, err := condition.Build(condition.Group{Mode: condition.ModeAll, Conditions: []condition.Condition{
		{Field: "trigger.body.amount", Op: condition.OpGreater, Value: "100"},
		{Field: `trigger.body["e-mail"]`, Op: condition.OpNotEmpty},
	}})
	fmt.Println(filter, err)

	g, ok := condition.Parse(filter)
	fmt.Println(ok, g.Mode, g.Conditions)

	_, ok = condition.Parse("trigger.body.amount > 100")
	fmt.Println(ok)
	// Output:
	// (trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 100 && (trigger.body?.["e-mail"] ?? "") != "" <nil>
	// true all [{trigger.body.amount greater_than 100} {trigger.body["e-mail"] is_not_empty }]
	// false
}
