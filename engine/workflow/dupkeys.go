package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// DuplicateKeyError names a key given twice in one JSON object. encoding/json keeps the
// last value silently, so a reviewer reading the first one would be misled; documents
// with such keys are refused instead.
type DuplicateKeyError struct {
	// Path is the object's path, as in FieldError; empty for the top level.
	Path string
	Key  string
}

func (e *DuplicateKeyError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("duplicate key %q at the top level", e.Key)
	}
	return fmt.Sprintf("duplicate key %q in %s", e.Key, e.Path)
}

// CheckDuplicateKeys returns a *DuplicateKeyError for the first key that appears twice
// in the same object of a JSON document, or nil. It reports nothing about syntax: a
// document that does not parse is left to the decoder's own error.
func CheckDuplicateKeys(data []byte) error {
	type frame struct {
		path  string
		obj   bool
		keys  map[string]bool
		key   string // the key whose value comes next (objects)
		index int    // the index of the next element (arrays)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	expectKey := false
	// valueDone moves the enclosing container past the value just read.
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.obj {
			expectKey = true
		} else {
			top.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error reported elsewhere
		}
		if expectKey {
			if key, ok := tok.(string); ok {
				top := stack[len(stack)-1]
				if top.keys[key] {
					return &DuplicateKeyError{Path: top.path, Key: key}
				}
				top.keys[key] = true
				top.key = key
				expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			path := ""
			if len(stack) > 0 {
				if top := stack[len(stack)-1]; top.obj {
					path = joinPath(top.path, top.key)
				} else {
					path = indexPath(top.path, top.index)
				}
			}
			f := &frame{path: path, obj: tok == json.Delim('{')}
			if f.obj {
				f.keys = map[string]bool{}
			}
			stack = append(stack, f)
			expectKey = f.obj
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			expectKey = false
			valueDone()
		default:
			valueDone()
		}
	}
}
