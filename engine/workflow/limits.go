package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Limits bound what one run of a workflow may hold in memory and store. A field left
// out (or zero) takes the engine's default (engine.Config); a workflow may set a value
// up to the field's maximum, lower or higher than the default.
type Limits struct {
	StepData         ByteSize `json:"step_data,omitempty" doc:"Largest step input or output stored in the run's record, as bytes or a size such as \"1MiB\"; a larger one is stored cut, with its size. Default 1MiB, at most 64MiB."`
	RunData          ByteSize `json:"run_data,omitempty" doc:"Most data a run may store in its step records, and hold in memory as outputs for later steps; past it the run fails. Default 16MiB, at most 256MiB."`
	ForEachItems     int      `json:"for_each_items,omitempty" doc:"Most elements a for_each list may have; a longer list fails the step before any call. Default 1000, at most 100000."`
	ExpressionMemory ByteSize `json:"expression_memory,omitempty" doc:"Memory one expression evaluation, or one rendering of a step's inputs, may build. Default 64MiB, at most 256MiB."`
}

// Maximums of the limits a workflow may set: what one run may cost the process
// whatever its editor asks for.
const (
	StepDataMax         = 64 << 20
	RunDataMax          = 256 << 20
	ForEachItemsMax     = 100_000
	ExpressionMemoryMax = 256 << 20
	// sizeLimitMin is the smallest size limit: a stored preview needs room.
	sizeLimitMin = 1 << 10
)

// Or returns the limits with the fields l leaves zero taken from def. l may be nil.
func (l *Limits) Or(def Limits) Limits {
	if l == nil {
		return def
	}
	out := *l
	if out.StepData == 0 {
		out.StepData = def.StepData
	}
	if out.RunData == 0 {
		out.RunData = def.RunData
	}
	if out.ForEachItems == 0 {
		out.ForEachItems = def.ForEachItems
	}
	if out.ExpressionMemory == 0 {
		out.ExpressionMemory = def.ExpressionMemory
	}
	return out
}

func checkLimits(errs *errorList, l *Limits) {
	if l == nil {
		return
	}
	size := func(name string, v ByteSize, max int64) {
		if v != 0 && (v < sizeLimitMin || int64(v) > max) {
			errs.add("limits."+name, "must be between %s and %s", ByteSize(sizeLimitMin), ByteSize(max))
		}
	}
	size("step_data", l.StepData, StepDataMax)
	size("run_data", l.RunData, RunDataMax)
	size("expression_memory", l.ExpressionMemory, ExpressionMemoryMax)
	if l.StepData != 0 && l.RunData != 0 && l.StepData > l.RunData {
		errs.add("limits.step_data", "%s is more than run_data %s", l.StepData, l.RunData)
	}
	if l.ForEachItems < 0 || l.ForEachItems > ForEachItemsMax {
		errs.add("limits.for_each_items", "must be between 1 and %d", ForEachItemsMax)
	}
}

// ByteSize is a size in bytes, written in JSON as an integer or as a string with a
// unit: "512KiB", "16MiB", "1GiB" (powers of 1024), "1MB" (powers of 1000) or "100B".
type ByteSize int64

var byteSizeType = reflect.TypeFor[ByteSize]()

// byteSizePattern is the JSON Schema pattern of a size string.
const byteSizePattern = `^[0-9]+(\.[0-9]+)? ?([KMG]i?B|B)?$`

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

// ParseByteSize reads a size: digits, optionally with a decimal part and a unit (B,
// KB, MB, GB, KiB, MiB, GiB), with or without a space before the unit.
func ParseByteSize(s string) (ByteSize, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eE+-_xX") || math.IsNaN(f) {
		return 0, fmt.Errorf("invalid size %q (use bytes or a size such as \"512KiB\", \"16MiB\")", s)
	}
	v := f * float64(mult)
	if v > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return ByteSize(math.Round(v)), nil
}

// String writes the size with the largest binary unit that divides it: "16MiB",
// "1536B".
func (b ByteSize) String() string {
	for i := 2; i >= 0; i-- {
		u := byteUnits[i]
		if b != 0 && int64(b)%u.mult == 0 {
			return strconv.FormatInt(int64(b)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// MarshalJSON writes the size as a string such as "16MiB".
func (b ByteSize) MarshalJSON() ([]byte, error) { return json.Marshal(b.String()) }

// UnmarshalJSON reads an integer number of bytes or a size string.
func (b *ByteSize) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		v, err := ParseByteSize(s)
		if err != nil {
			return err
		}
		*b = v
		return nil
	}
	var n int64
	if err := json.Unmarshal(data, &n); err != nil {
		return errors.New("size must be an integer number of bytes or a string such as \"1MiB\"")
	}
	if n < 0 {
		return errors.New("size must not be negative")
	}
	*b = ByteSize(n)
	return nil
}

// checkByteSize is the shape check of a ByteSize value.
func checkByteSize(errs *errorList, path string, v any) bool {
	if s, ok := v.(string); ok {
		if _, err := ParseByteSize(s); err != nil {
			errs.add(path, "%v", err)
			return false
		}
		return true
	}
	if jt := connectors.JSONTypeOf(v); jt != "integer" {
		errs.add(path, "expected a size in bytes or a string such as \"1MiB\", got %s", jt)
		return false
	}
	if strings.HasPrefix(fmt.Sprint(v), "-") {
		errs.add(path, "must not be negative")
		return false
	}
	return true
}

// CheckLimits validates limits set outside a workflow (the server's defaults) by the
// rules of a workflow's "limits".
func CheckLimits(l *Limits) error {
	var errs errorList
	checkLimits(&errs, l)
	return errs.err()
}
