package templates

import (
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine/workflow"
)

// usernamePattern is an @username as telegram.send_message accepts it.
var usernamePattern = regexp.MustCompile(`^@[A-Za-z0-9_]+$`)

// coerce checks a field's value and gives it the JSON type its placeholder takes.
func coerce(f Field, v any) (any, error) {
	switch f.Type {
	case TypeNumber:
		n, ok := number(v)
		if !ok {
			return nil, fmt.Errorf("%v is not a number", v)
		}
		return n, nil
	case TypeChatID:
		return chatID(v)
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("must be text, not %T", v)
	}
	s = strings.TrimSpace(s)
	switch f.Type {
	case TypeEmail:
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@')+1:], ".") {
			return nil, fmt.Errorf("%q is not an email address such as team@example.com", s)
		}
		return a.Address, nil
	case TypeCron:
		if _, err := workflow.ParseSchedule(s, ""); err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
	case TypeTimezone:
		if s == "" || s == "Local" {
			return nil, fmt.Errorf("%q is not a time zone such as Europe/Moscow", s)
		}
		if _, err := time.LoadLocation(s); err != nil {
			return nil, fmt.Errorf("%q is not a time zone such as Europe/Moscow", s)
		}
	}
	if s == "" {
		return nil, fmt.Errorf("is empty")
	}
	return s, nil
}

// number reads a JSON number or a string of one; whole numbers come back as int64.
func number(v any) (any, bool) {
	var f float64
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		f = x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		var err error
		if f, err = x.Float64(); err != nil {
			return nil, false
		}
	case string:
		s := strings.TrimSpace(x)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, true
		}
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), true
	}
	return f, true
}

// chatID reads a Telegram chat: a non-zero whole number (as a number or digits) or an
// @username, as telegram.send_message takes it.
func chatID(v any) (any, error) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "@") {
			if !usernamePattern.MatchString(s) {
				return nil, fmt.Errorf("%q is not a valid @username", s)
			}
			return s, nil
		}
		v = s
	}
	n, ok := number(v)
	if id, whole := n.(int64); ok && whole && id != 0 {
		return id, nil
	}
	shown := fmt.Sprint(v)
	if s, ok := v.(string); ok {
		shown = strconv.Quote(s)
	}
	return nil, fmt.Errorf("%s is neither a chat id such as -1001234567890 nor an @username", shown)
}
