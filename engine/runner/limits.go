package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
)

// LimitError is a run stopped by one of its limits (workflow.Limits). Its text names
// the limit and how to raise it. A step that hits a limit fails the run even with
// continue_on_error, and is not retried.
type LimitError struct {
	// Limit is the field of "limits": step_data, run_data, for_each_items or
	// expression_memory.
	Limit string
	// Value is the limit in force, as a workflow writes it.
	Value string
	// What says what went past it.
	What string
	err  error
}

// Error names what happened, the limit and how to raise it.
func (e *LimitError) Error() string {
	max := map[string]string{
		"step_data":         workflow.ByteSize(workflow.StepDataMax).String(),
		"run_data":          workflow.ByteSize(workflow.RunDataMax).String(),
		"for_each_items":    strconv.Itoa(workflow.ForEachItemsMax),
		"expression_memory": workflow.ByteSize(workflow.ExpressionMemoryMax).String(),
	}[e.Limit]
	return fmt.Sprintf("%s: over limits.%s (%s); if the data is expected, raise %q in the workflow's \"limits\" (up to %s)",
		e.What, e.Limit, e.Value, e.Limit, max)
}

// Unwrap returns the error that revealed the limit, if any.
func (e *LimitError) Unwrap() error { return e.err }

// IsLimit reports whether err is (or wraps) a *LimitError.
func IsLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}

// withLimitHint turns an expression's memory error into a *LimitError naming
// expression_memory; other errors pass unchanged.
func withLimitHint(err error) error {
	var mle *expr.MemoryLimitError
	if err == nil || IsLimit(err) || !errors.As(err, &mle) {
		return err
	}
	return &LimitError{Limit: "expression_memory", Value: workflow.ByteSize(mle.Limit).String(), What: err.Error(), err: err}
}

// budget is a run's data measured against its limits during one execution.
type budget struct {
	lim workflow.Limits
	// stored is the size of the run's step records as stored.
	stored int64
	// held is the full size of the finished steps' outputs in the environment, kept
	// in memory for later steps.
	held int64
}

func newBudget(lim workflow.Limits, records map[string]*store.StepRun) *budget {
	b := &budget{lim: lim}
	for _, rec := range records {
		b.stored += recordSize(rec)
		if rec.Status != store.StepWaiting && rec.Output != nil {
			b.held += int64(len(*rec.Output))
		}
	}
	return b
}

// checkHeld fails when a step holding extra bytes (its inputs and outputs so far)
// would take the run's data in memory past run_data.
func (b *budget) checkHeld(extra int64, what string) error {
	if b.lim.RunData <= 0 || b.held+extra <= int64(b.lim.RunData) {
		return nil
	}
	return &LimitError{Limit: "run_data", Value: b.lim.RunData.String(),
		What: fmt.Sprintf("%s would bring the run's data in memory to %d bytes", what, b.held+extra)}
}

// checkItems fails a for_each list longer than for_each_items.
func (b *budget) checkItems(n int) error {
	if b.lim.ForEachItems <= 0 || n <= b.lim.ForEachItems {
		return nil
	}
	return &LimitError{Limit: "for_each_items", Value: strconv.Itoa(b.lim.ForEachItems),
		What: fmt.Sprintf("for_each gave %d items", n)}
}

func recordSize(rec *store.StepRun) int64 {
	n := int64(len(rec.Error))
	for _, s := range []*string{rec.Input, rec.Output, rec.AttemptErrors} {
		if s != nil {
			n += int64(len(*s))
		}
	}
	return n
}

// jsonSize is the size of v's stored JSON, measured without building it.
func jsonSize(v any) int64 {
	if v == nil {
		return 0
	}
	_, size, err := expr.StoredJSON(v, 0)
	if err != nil {
		return 0
	}
	return size
}

// truncatedPrefix starts the stored form of data cut at step_data. The key order is
// fixed and unsorted ("size" before "preview"), so an action's own output, which is
// stored with sorted keys, cannot be mistaken for it.
const truncatedPrefix = `{"$truncated":true,"size":`

// storeData encodes a step's input or output for its record, cut to limit bytes (no
// cut when limit is 0). A value over the limit is stored as
// {"$truncated":true,"size":<bytes>,"preview":"<start of its JSON>"}, the way the
// inspector keeps the start of a large body and its size. It also returns the full
// size.
func storeData(v any, limit int64) (*string, int64) {
	if v == nil {
		return nil, 0
	}
	if limit <= 0 {
		s := encodeJSON(v)
		return s, int64(len(*s))
	}
	text, size, err := expr.StoredJSON(v, int(limit))
	if err != nil {
		return encodeJSON(fmt.Sprintf("unencodable value: %v", err)), 0
	}
	if size <= limit {
		return &text, size
	}
	s := truncated(text, size, limit)
	return &s, size
}

// truncated is the stored form of data of size bytes whose JSON starts with prefix;
// it fits in limit bytes (at least 1 KiB, as validation requires).
func truncated(prefix string, size, limit int64) string {
	head := truncatedPrefix + strconv.FormatInt(size, 10) + `,"preview":`
	room := int(limit) - len(head) - 1
	for ; room > 0; room /= 2 {
		p := strings.ToValidUTF8(prefix[:min(room, len(prefix))], "") // may be cut inside a character
		enc := encodeJSON(p)
		if len(head)+len(*enc)+1 <= int(limit) {
			return head + *enc + "}"
		}
	}
	return head + `""}`
}

// isTruncated reports whether a stored input or output was cut at step_data.
func isTruncated(s *string) bool {
	return s != nil && strings.HasPrefix(*s, truncatedPrefix) && strings.Contains(*s, `,"preview":`)
}

// mentions reports whether a step's expressions or inputs may read steps.<id>: a
// conservative textual test, true whenever the id appears at all.
func mentions(cs *workflow.CompiledStep, id string) bool {
	if strings.Contains(cs.Step.If, id) || strings.Contains(cs.Step.ForEach, id) {
		return true
	}
	b, err := json.Marshal(cs.Step.With)
	return err != nil || strings.Contains(string(b), id)
}

// cutText bounds an error text stored in a record: a connector may quote a whole
// response in its error.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s… (cut, %d bytes in all)", strings.ToValidUTF8(s[:n], ""), len(s))
}

// Error texts stored in records are cut to these sizes.
const (
	maxErrorText   = 16 << 10
	maxAttemptText = 4 << 10
)
