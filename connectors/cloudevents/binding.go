package cloudevents

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"

	"github.com/reflexops/reflex/connectors"
)

// attrPrefix starts the name of every attribute header of binary mode.
const attrPrefix = "ce-"

// maxAttrName is the longest attribute name CloudEvents allows (it says
// "SHOULD NOT exceed 20"; longer ones are accepted up to this bound).
const maxAttrName = 64

// parseBinary reads a binary-mode delivery: the attributes in ce-*
// headers, the data in the body, of media type Content-Type. The payload
// kept is the same event in structured mode.
func parseBinary(req *connectors.Request, ct, mediaType string) (*connectors.Result, error) {
	if !hasRequiredHeaders(req.Header) {
		return nil, fmt.Errorf("%w: %q is not a CloudEvents media type (%s, %s) and the ce-specversion, ce-id, ce-source and ce-type headers of binary mode are missing", connectors.ErrUnsupportedMediaType, mediaType, MediaStructured, MediaBatch)
	}
	exts, err := extensions(req.Header)
	if err != nil {
		return nil, err
	}
	var a attributes
	for _, f := range []struct {
		key string
		dst *string
	}{{HeaderSpecVersion, &a.specVersion}, {HeaderID, &a.id}, {HeaderSource, &a.source}, {HeaderType, &a.typ}, {headerTime, &a.time}} {
		if *f.dst, err = headerValue(req.Header, f.key); err != nil {
			return nil, err
		}
	}
	if err := a.check("the ce-", " header"); err != nil {
		return nil, err
	}
	data := bytes.TrimSpace(req.Body)
	if !utf8.ValidString(ct) {
		return nil, fmt.Errorf("%w: the Content-Type header is not valid UTF-8", connectors.ErrUnsupportedMediaType)
	}
	if len(data) > 0 && ct == "" {
		return nil, fmt.Errorf("%w: the Content-Type header is missing; in binary mode it is the media type of the data in the body", connectors.ErrUnsupportedMediaType)
	}
	isJSON := jsonMedia(mediaType)
	if isJSON && len(data) > 0 {
		// Checked once here: the stored document embeds it, and the
		// normalizer decodes it as it is.
		if err := connectors.CheckPayload(data); err != nil {
			return nil, fmt.Errorf("%w: the data (Content-Type %s) %s", connectors.ErrMalformed, mediaType, strings.TrimPrefix(err.Error(), connectors.ErrMalformed.Error()+": the payload "))
		}
	}
	payload := structuredForm(&a, exts, ct, data, isJSON)
	if !isJSON {
		data = nil
	}
	ev, err := newEvent(req, &a, data)
	if err != nil {
		return nil, err
	}
	// The document is built of checked data, base64 and escaped
	// attributes: JSON by construction.
	return &connectors.Result{Event: ev, Payload: payload, Checked: true}, nil
}

// hasRequiredHeaders reports whether h has any of the headers that mark a
// binary-mode CloudEvent, so a request with none is told it is not one.
func hasRequiredHeaders(h http.Header) bool {
	for _, name := range []string{HeaderSpecVersion, HeaderID, HeaderSource, HeaderType} {
		if len(h[name]) > 0 {
			return true
		}
	}
	return false
}

// attr is one attribute of a binary-mode event beside the required ones.
type attr struct{ name, value string }

// isRequired reports whether an attribute name (any case) is one
// parseBinary reads itself.
func isRequired(name string) bool {
	for _, r := range [...]string{"specversion", "id", "source", "type"} {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// extensions returns the optional and extension attributes of binary mode,
// sorted by name, refusing a header that is no attribute.
func extensions(h http.Header) ([]attr, error) {
	out := make([]attr, 0, 8)
	for key := range h {
		// Most headers are not attributes: rule them out by their first
		// bytes ("ce-" in any case) before anything costlier.
		if len(key) <= len(attrPrefix) || key[0]|0x20 != 'c' || key[1]|0x20 != 'e' || key[2] != '-' {
			continue
		}
		if isRequired(key[len(attrPrefix):]) {
			continue
		}
		name := strings.ToLower(key[len(attrPrefix):])
		switch {
		case name == "datacontenttype":
			return nil, fmt.Errorf("%w: binary mode has no ce-datacontenttype header: Content-Type is the data's media type", connectors.ErrMalformed)
		case name == "data" || len(name) > maxAttrName || !attrName(name):
			return nil, fmt.Errorf("%w: the %s header names no CloudEvents attribute: attribute names are lower-case letters and digits", connectors.ErrMalformed, clip(key))
		}
		v, err := headerValue(h, key)
		if err != nil {
			return nil, err
		}
		out = append(out, attr{name, v})
	}
	slices.SortFunc(out, func(a, b attr) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// attrName reports whether name is made of lower-case letters and digits,
// as attribute names are.
func attrName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// headerValue returns the attribute in header key (canonical), decoded as
// the HTTP binding says: unquoted if a quoted string, then percent-decoded
// once; the result must be UTF-8 without control characters. "" when
// absent.
func headerValue(h http.Header, key string) (string, error) {
	vs := h[key]
	if len(vs) == 0 {
		return "", nil
	}
	if len(vs) > 1 {
		return "", fmt.Errorf("%w: the %s header is sent %d times; an attribute has one value", connectors.ErrMalformed, strings.ToLower(key), len(vs))
	}
	v, err := decodeHeader(strings.TrimSpace(vs[0]))
	if err != nil {
		return "", fmt.Errorf("%w: the %s header %v", connectors.ErrMalformed, strings.ToLower(key), err)
	}
	return v, nil
}

// decodeHeader decodes one header value of binary mode.
func decodeHeader(v string) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		var b strings.Builder
		inner := v[1 : len(v)-1]
		for i := 0; i < len(inner); i++ {
			switch c := inner[i]; {
			case c == '\\' && i+1 < len(inner):
				i++
				b.WriteByte(inner[i])
			case c == '\\' || c == '"':
				return "", fmt.Errorf("is a quoted string with a stray %q", c)
			default:
				b.WriteByte(c)
			}
		}
		v = b.String()
	}
	if strings.IndexByte(v, '%') >= 0 {
		d, err := url.PathUnescape(v)
		if err != nil {
			return "", fmt.Errorf("holds an invalid percent-encoding")
		}
		v = d
	}
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("is not valid UTF-8 once percent-decoded")
	}
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }) {
		return "", fmt.Errorf("holds a control character")
	}
	return v, nil
}

// jsonMedia reports whether a media type is JSON, as the JSON event
// format decides whether data is embedded as JSON.
func jsonMedia(mediaType string) bool {
	return mediaType == "application/json" || mediaType == "text/json" || strings.HasSuffix(mediaType, "+json")
}

// structuredForm returns a binary-mode event in the JSON event format: the
// required attributes, the others sorted, datacontenttype, and the data,
// embedded when JSON and base64-encoded otherwise.
func structuredForm(a *attributes, exts []attr, ct string, data []byte, isJSON bool) []byte {
	size := len(data) + len(a.id) + len(a.source) + len(a.typ) + len(ct) + 128
	if !isJSON {
		size += base64.StdEncoding.EncodedLen(len(data)) - len(data)
	}
	for _, f := range exts {
		size += len(f.name) + len(f.value) + 6
	}
	b := make([]byte, 0, size)
	b = append(b, `{"specversion":`...)
	b = appendString(b, a.specVersion)
	for _, f := range []attr{{"id", a.id}, {"source", a.source}, {"type", a.typ}} {
		b = appendMember(b, f.name, f.value)
	}
	for _, f := range exts {
		b = appendMember(b, f.name, f.value)
	}
	if ct != "" {
		b = appendMember(b, "datacontenttype", ct)
	}
	switch {
	case len(data) == 0:
	case isJSON:
		b = append(b, `,"data":`...)
		b = append(b, data...)
	default:
		b = append(b, `,"data_base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, data)
		b = append(b, '"')
	}
	return append(b, '}')
}

func appendMember(b []byte, name, value string) []byte {
	b = append(b, ',')
	b = appendString(b, name)
	b = append(b, ':')
	return appendString(b, value)
}

// appendString appends s as a JSON string; s is valid UTF-8. Runs that
// need no escape are copied whole.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		if c < 0x20 {
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		} else {
			b = append(b, '\\', c)
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// envelope is the part of a structured-mode event Reflex reads.
type envelope struct {
	SpecVersion     string            `json:"specversion"`
	ID              string            `json:"id"`
	Source          string            `json:"source"`
	Type            string            `json:"type"`
	Time            string            `json:"time"`
	DataContentType string            `json:"datacontenttype"`
	Data            gojson.RawMessage `json:"data"`
	DataBase64      *string           `json:"data_base64"`
}

// parseStructured reads one event in the JSON event format, which is also
// the payload kept.
func parseStructured(req *connectors.Request, body []byte) (*connectors.Result, error) {
	var env envelope
	if err := connectors.Decode(body, &env); err != nil {
		return nil, fmt.Errorf("%w: the body is not a CloudEvent in the JSON event format: %v", connectors.ErrMalformed, err)
	}
	a := attributes{specVersion: env.SpecVersion, id: env.ID, source: env.Source, typ: env.Type, time: env.Time}
	if err := a.check("the event's ", ""); err != nil {
		return nil, err
	}
	data, err := env.jsonData()
	if err != nil {
		return nil, err
	}
	ev, err := newEvent(req, &a, data)
	if err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: body, Checked: true}, nil
}

// jsonData returns the event's data when it is JSON, nil otherwise.
func (env *envelope) jsonData() ([]byte, error) {
	hasData := len(env.Data) > 0 && !bytes.Equal(env.Data, []byte("null"))
	if hasData && env.DataBase64 != nil {
		return nil, fmt.Errorf("%w: the event has both data and data_base64", connectors.ErrMalformed)
	}
	mediaType := mediaTypeOf(env.DataContentType)
	switch {
	case hasData && (mediaType == "" || jsonMedia(mediaType)):
		return env.Data, nil
	case env.DataBase64 != nil && jsonMedia(mediaType):
		data, err := base64.StdEncoding.DecodeString(*env.DataBase64)
		if err != nil {
			return nil, fmt.Errorf("%w: the event's data_base64 is not base64", connectors.ErrMalformed)
		}
		// The rest of the event was checked with it; this was not.
		if err := connectors.CheckPayload(data); err != nil {
			return nil, fmt.Errorf("%w: the event's data_base64 does not hold the JSON its datacontenttype says", connectors.ErrMalformed)
		}
		return data, nil
	}
	return nil, nil
}

// parseBatch reads a batch in the JSON batch format: each of its events
// as in structured mode, stored and de-duplicated on its own. A batch of
// one is that event; an empty one is answered without storing anything.
// One malformed event refuses the whole batch, before any is queued.
func parseBatch(req *connectors.Request) (*connectors.Result, error) {
	var batch []gojson.RawMessage
	if err := connectors.Decode(req.Body, &batch); err != nil {
		return nil, fmt.Errorf("%w: the body is not a batch in the JSON batch format (an array of events): %v", connectors.ErrMalformed, err)
	}
	switch {
	case len(batch) == 0:
		return &connectors.Result{Ping: true, Payload: []byte("[]")}, nil
	case len(batch) == 1:
		return parseStructured(req, batch[0])
	case len(batch) > connectors.MaxBatch:
		return nil, fmt.Errorf("%w: a batch of %d events; at most %d are taken in one request", connectors.ErrMalformed, len(batch), connectors.MaxBatch)
	}
	out := &connectors.Result{Batch: make([]*connectors.Result, len(batch))}
	for i, raw := range batch {
		res, err := parseStructured(req, raw)
		if err != nil {
			return nil, fmt.Errorf("batch[%d]: %w", i, err)
		}
		out.Batch[i] = res
	}
	return out, nil
}
