package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/cozeauth/cozeauth/internal/openapi"
)

// Limits on what the gateway reads of a body to find a resource ID. The bytes
// read are replayed to the upstream in front of the rest of the body, so they
// are all that is held in memory.
const (
	// MaxJSONInspect bounds a JSON body whose top-level field names the
	// resource: the whole object is read to reject a duplicated field.
	MaxJSONInspect = 16 << 20
	// MaxFormInspect bounds how far into a form the resource field may be: in
	// a multipart upload, put the field before the file part.
	MaxFormInspect = 1 << 20
	maxIDLen       = 256
	// maxIDs bounds a list of resource IDs in a body field; idSep joins them
	// (it cannot occur in one).
	maxIDs = 100
	idSep  = "\x00"
)

var errTooFar = errors.New("too far into the body")

// resourceID finds the resource ID where the route says it lives (several,
// joined by idSep, when a JSON field lists them). A body it had to read is
// replaced by one that replays what was read.
func resourceID(r *http.Request, m *Match) (string, *openapi.Error) {
	where, name, _ := strings.Cut(m.Route.ResourceFrom, ":")
	var id string
	switch where {
	case "":
		return "", nil
	case "path":
		id = m.PathResource(r.URL.Path)
	case "query":
		id = r.URL.Query().Get(name)
	case "body":
		var err error
		id, err = fromJSON(r, name)
		if err != nil {
			return "", bodyError(err, name)
		}
	case "form":
		var err error
		id, err = fromForm(r, name)
		if err != nil {
			return "", bodyError(err, name)
		}
	default:
		return "", openapi.BadRequest("route names its resource in an unknown place %q", m.Route.ResourceFrom)
	}
	if id == "" {
		return "", openapi.BadRequest("%s is required (in the %s)", name, placeName(where))
	}
	for _, one := range strings.Split(id, idSep) {
		if len(one) > maxIDLen {
			return "", openapi.BadRequest("%s is longer than %d bytes", name, maxIDLen)
		}
	}
	return id, nil
}

func placeName(where string) string {
	switch where {
	case "body":
		return "JSON body"
	case "form":
		return "form"
	}
	return where
}

func bodyError(err error, name string) *openapi.Error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge(tooBig.Limit)
	case errors.Is(err, errTooFar):
		return openapi.BadRequest("%s must come within the first %d bytes of the body (in a multipart form, before the file)", name, MaxFormInspect)
	}
	var e *openapi.Error
	if errors.As(err, &e) {
		return e
	}
	return openapi.BadRequest("could not read %s from the request body: %v", name, err)
}

// replay puts the bytes already read back in front of the unread rest.
func replay(r *http.Request, read []byte) {
	rest := r.Body
	r.Body = readCloser{io.MultiReader(bytes.NewReader(read), rest), rest}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// fromJSON reads the JSON object body and returns its top-level field name,
// a string or a number. Keys are compared case-insensitively and a repeated
// key is refused, because upstream JSON decoders (Go's among them) match keys
// case-insensitively and keep the last one: the gateway must authorize the
// very value the upstream will use.
func fromJSON(r *http.Request, name string) (string, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return "", openapi.BadRequest("send a JSON body (Content-Type: application/json) naming %s", name)
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONInspect+1))
	replay(r, body)
	if err != nil {
		return "", err
	}
	if len(body) > MaxJSONInspect {
		return "", &openapi.Error{Code: openapi.CodeBadRequest, Status: http.StatusRequestEntityTooLarge,
			Msg: fmt.Sprintf("a JSON body naming %s may be at most %d bytes", name, MaxJSONInspect)}
	}
	if !json.Valid(body) {
		return "", openapi.BadRequest("request body is not valid JSON")
	}
	raw, n, isObject := topLevelField(body, name)
	switch {
	case !isObject:
		return "", openapi.BadRequest("request body must be a JSON object naming %s", name)
	case n > 1:
		return "", openapi.BadRequest("%s appears more than once in the request body", name)
	case n == 0:
		return "", nil
	}
	return idValue(raw, name)
}

// idValue turns a field's raw JSON value into the ID (or IDs joined by
// idSep): a string, a number, null (none) or a list of strings and numbers.
func idValue(raw []byte, name string) (string, error) {
	switch raw[0] {
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", openapi.BadRequest("%s is not a valid JSON string", name)
		}
		return v, nil
	case 'n':
		return "", nil
	case '[':
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var list []any
		if err := dec.Decode(&list); err != nil {
			return "", openapi.BadRequest("%s must be a string or a list of strings", name)
		}
		// A list of IDs (e.g. document_ids): each is decided.
		ids := make([]string, 0, len(list))
		for _, e := range list {
			switch e := e.(type) {
			case string:
				ids = append(ids, e)
			case json.Number:
				ids = append(ids, e.String())
			default:
				return "", openapi.BadRequest("%s must be a string or a list of strings", name)
			}
			if ids[len(ids)-1] == "" || strings.Contains(ids[len(ids)-1], idSep) {
				return "", openapi.BadRequest("%s has an empty or invalid entry", name)
			}
		}
		if len(ids) > maxIDs {
			return "", openapi.BadRequest("%s lists more than %d IDs", name, maxIDs)
		}
		return strings.Join(ids, idSep), nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(raw), nil
	}
	return "", openapi.BadRequest("%s must be a string or a list of strings", name)
}

// topLevelField finds the values of the top-level keys of a valid JSON
// document that equal name case-insensitively (as Go's decoder matches
// them): the last one's raw value and how many there are. isObject is false
// when the document is not an object. It allocates nothing: the gateway
// reads every chat request this way.
func topLevelField(b []byte, name string) (raw []byte, n int, isObject bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, 0, false
	}
	i = skipWS(b, i+1)
	if b[i] == '}' {
		return nil, 0, true
	}
	for {
		keyEnd := skipString(b, i)
		key := b[i:keyEnd]
		i = skipWS(b, skipWS(b, keyEnd)+1) // past ':'
		valEnd := skipValue(b, i)
		if keyMatches(key, name) {
			raw, n = b[i:valEnd], n+1
		}
		i = skipWS(b, valEnd)
		if b[i] != ',' {
			return raw, n, true // '}'
		}
		i = skipWS(b, i+1)
	}
}

func keyMatches(quoted []byte, name string) bool {
	k := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(k, '\\') >= 0 {
		var s string
		if json.Unmarshal(quoted, &s) != nil {
			return false
		}
		return strings.EqualFold(s, name)
	}
	for _, c := range k {
		if c >= 0x80 {
			return strings.EqualFold(string(k), name) // Unicode folding
		}
	}
	if len(k) != len(name) {
		return false
	}
	for i, c := range k {
		if lower(c) != lower(name[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"').
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// fromForm returns the first value of a form field (as Go's FormValue does)
// from a multipart or urlencoded body, reading at most MaxFormInspect bytes:
// a multipart upload is never held in memory, so the field must come before
// the file.
func fromForm(r *http.Request, name string) (string, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return "", openapi.BadRequest("send a form body (multipart/form-data or application/x-www-form-urlencoded) naming %s", name)
	}
	var read bytes.Buffer
	lr := &io.LimitedReader{R: r.Body, N: MaxFormInspect}
	src := io.TeeReader(lr, &read)
	defer func() { replay(r, read.Bytes()) }()
	switch mt {
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(src)
		if err != nil {
			return "", err
		}
		if lr.N == 0 {
			// Exactly at the limit or beyond: is there more?
			var one [1]byte
			if n, _ := r.Body.Read(one[:]); n > 0 {
				read.Write(one[:n])
				return "", errTooFar
			}
		}
		v, err := url.ParseQuery(string(b))
		if err != nil {
			return "", openapi.BadRequest("request body is not a valid urlencoded form: %v", err)
		}
		return v.Get(name), nil
	case "multipart/form-data":
		mr := multipart.NewReader(src, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return "", nil
			}
			if err != nil {
				if lr.N == 0 {
					return "", errTooFar
				}
				return "", unwrapMultipart(err)
			}
			if p.FormName() != name || p.FileName() != "" {
				if _, err := io.Copy(io.Discard, p); err != nil {
					if lr.N == 0 {
						return "", errTooFar
					}
					return "", unwrapMultipart(err)
				}
				continue
			}
			v, err := io.ReadAll(io.LimitReader(p, maxIDLen+1))
			if err != nil {
				if lr.N == 0 {
					return "", errTooFar
				}
				return "", unwrapMultipart(err)
			}
			return strings.TrimSpace(string(v)), nil
		}
	}
	return "", openapi.BadRequest("send a form body (multipart/form-data or application/x-www-form-urlencoded) naming %s", name)
}

func unwrapMultipart(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return openapi.BadRequest("request body is not a valid multipart form: %v", err)
}
