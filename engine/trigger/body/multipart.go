package body

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"strings"
)

// parseMultipart reads a multipart/form-data body into nested values: fields as
// in forms, files as objects describing them. The second result says parts
// beyond opts.MaxFields were dropped or a file's content was left out. A missing
// boundary, a bad part or a body that ends early is an error.
func parseMultipart(raw []byte, boundary string, opts Options) (map[string]any, bool, error) {
	if boundary == "" {
		return nil, false, errors.New("read multipart body: no boundary in the content type")
	}
	var (
		root      node
		parts     int
		truncated bool
		path      []string // reused for every name
	)
	r := multipart.NewReader(bytes.NewReader(raw), boundary)
	for {
		part, err := r.NextPart()
		if err == io.EOF { // exactly io.EOF: the closing boundary was read; a wrapped EOF means it is missing
			break
		}
		if err != nil {
			return nil, false, fmt.Errorf("read multipart part %d: %w", parts+1, err)
		}
		if parts == opts.MaxFields {
			truncated = true
			break
		}
		parts++
		name, filename, isFile := disposition(part)
		name, _ = validText(name)
		var value any
		if isFile {
			file, cut, err := readFile(part, filename, opts.MaxFileBytes)
			if err != nil {
				return nil, false, fmt.Errorf("read multipart file %q: %w", name, err)
			}
			truncated = truncated || cut
			value = file
		} else {
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, false, fmt.Errorf("read multipart field %q: %w", name, err)
			}
			value, _ = validText(string(data))
		}
		path = splitName(path[:0], name, opts.MaxDepth)
		root.insert(path, value)
	}
	return root.object(), truncated, nil
}

// disposition returns a part's field name and, when its Content-Disposition
// has a filename parameter (even an empty one, which browsers send for a file
// input left empty), the file name without directories. Directories are cut at
// both '/' and '\', whatever the platform, so the result is the same
// everywhere. A part that is not form-data, or whose disposition does not
// parse, is a field named "".
func disposition(part *multipart.Part) (name, filename string, isFile bool) {
	kind, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	if err != nil || kind != "form-data" {
		return "", "", false
	}
	filename, isFile = params["filename"]
	if i := strings.LastIndexAny(filename, `/\`); i >= 0 {
		filename = filename[i+1:]
	}
	return params["name"], filename, isFile
}

// readFile describes a file part: its name, content type, size and, when the
// size is at most maxBytes, its content in base64. The second result says the
// content was left out.
func readFile(part *multipart.Part, filename string, maxBytes int64) (map[string]any, bool, error) {
	limit := maxBytes
	if limit < math.MaxInt64 {
		limit++ // one byte more than allowed tells a file that is too large
	}
	data, err := io.ReadAll(io.LimitReader(part, limit))
	if err != nil {
		return nil, false, err
	}
	filename, _ = validText(filename)
	contentType, _ := validText(part.Header.Get("Content-Type"))
	file := map[string]any{
		"filename":     filename,
		"content_type": contentType,
	}
	size := int64(len(data))
	if size <= maxBytes {
		file["size"] = size
		file["content_base64"] = base64.StdEncoding.EncodeToString(data)
		return file, false, nil
	}
	rest, err := io.Copy(io.Discard, part)
	if err != nil {
		return nil, false, err
	}
	file["size"] = size + rest
	return file, true, nil
}
