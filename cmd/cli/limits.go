package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
)

// runLimits are the server-wide defaults of workflows' "limits".
type runLimits struct {
	StepData         workflow.ByteSize
	RunData          workflow.ByteSize
	ForEachItems     int
	ExpressionMemory workflow.ByteSize
}

// addLimitFlags adds the flags of the run limits' defaults; the engine checks them
// against the maximums a workflow may set.
func (o *Options) addLimitFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	o.Limits.StepData = o.envSize("HOOKFLOW_STEP_DATA_LIMIT", engine.StepDataLimitDefault)
	f.Var((*sizeFlag)(&o.Limits.StepData), "step-data-limit",
		"largest step input or output stored whole in a run's record; a larger one is stored cut, with its size; workflows may set limits.step_data [HOOKFLOW_STEP_DATA_LIMIT]")
	o.Limits.RunData = o.envSize("HOOKFLOW_RUN_DATA_LIMIT", engine.RunDataLimitDefault)
	f.Var((*sizeFlag)(&o.Limits.RunData), "run-data-limit",
		"most data a run stores in its step records and holds in memory for later steps; past it the run fails; workflows may set limits.run_data [HOOKFLOW_RUN_DATA_LIMIT]")
	f.IntVar(&o.Limits.ForEachItems, "for-each-items-limit", o.envInt("HOOKFLOW_FOR_EACH_ITEMS_LIMIT", engine.ForEachItemsLimitDefault),
		"longest list a for_each may loop over; workflows may set limits.for_each_items [HOOKFLOW_FOR_EACH_ITEMS_LIMIT]")
	o.Limits.ExpressionMemory = o.envSize("HOOKFLOW_EXPRESSION_MEMORY_LIMIT", engine.ExpressionMemoryLimitDefault)
	f.Var((*sizeFlag)(&o.Limits.ExpressionMemory), "expression-memory-limit",
		"memory one expression evaluation, or one rendering of a step's inputs, may build; workflows may set limits.expression_memory [HOOKFLOW_EXPRESSION_MEMORY_LIMIT]")
}

func (o *Options) envSize(name string, def int64) workflow.ByteSize {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return workflow.ByteSize(def)
	}
	n, err := workflow.ParseByteSize(v)
	if err != nil {
		o.badEnv(name, fmt.Errorf("%s=%q: %w", name, v, err))
		return workflow.ByteSize(def)
	}
	return n
}

// sizeFlag is a flag holding a size such as 16MiB.
type sizeFlag workflow.ByteSize

func (s *sizeFlag) String() string { return workflow.ByteSize(*s).String() }

func (s *sizeFlag) Set(v string) error {
	n, err := workflow.ParseByteSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func (s *sizeFlag) Type() string { return "size" }
