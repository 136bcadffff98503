package cloudevents

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/reflexops/reflex/connectors"
)

// userAgent is what `reflex send` says it is.
const userAgent = "Reflex-send (CloudEvents)"

// sendSource is the source attribute of a delivery `reflex send` makes of
// a payload that names none.
const sendSource = "/reflex/send"

// Delivery returns a delivery of payload as event type typ with id id. A
// payload that is already a CloudEvent (an object with specversion, as
// Reflex stores every event of this connector) is sent in structured mode
// with typ and id written into it; a batch likewise in batched mode (a
// batch of several keeps its events' types, and their ids are id.1, id.2
// and so on); any other payload is the data of a binary-mode event, whose source
// is the CDEvent's context.source when it is one.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("User-Agent", userAgent)
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &batch); err == nil && len(batch) > 0 {
			for i, ev := range batch {
				if len(batch) == 1 {
					batch[i] = withIDType(ev, typ, id)
					continue
				}
				var evType string
				_ = json.Unmarshal(ev["type"], &evType)
				batch[i] = withIDType(ev, evType, id+"."+strconv.Itoa(i+1))
			}
			if body, err := json.Marshal(batch); err == nil {
				payload = body
			}
		}
		h.Set("Content-Type", MediaBatch+"; charset=utf-8")
		return h, payload
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &doc); err == nil && doc["specversion"] != nil {
		if body, err := json.Marshal(withIDType(doc, typ, id)); err == nil {
			h.Set("Content-Type", MediaStructured+"; charset=utf-8")
			return h, body
		}
	}
	source := sendSource
	var cd struct {
		Context struct {
			Source string `json:"source"`
		} `json:"context"`
	}
	if connectors.Decode(trimmed, &cd) == nil && cd.Context.Source != "" {
		source = cd.Context.Source
	}
	payload = withContext(payload, typ, id)
	h.Set("Content-Type", "application/json")
	h.Set(HeaderSpecVersion, SpecVersion)
	h.Set(HeaderID, encodeHeader(id))
	h.Set(HeaderSource, encodeHeader(source))
	h.Set(HeaderType, encodeHeader(typ))
	return h, payload
}

// withIDType writes typ and id into a structured-mode event, and into its
// data's context when that is a CDEvent.
func withIDType(doc map[string]json.RawMessage, typ, id string) map[string]json.RawMessage {
	withIDTypeOnly(doc, typ, id)
	if data, ok := doc["data"]; ok {
		doc["data"] = withContext(data, typ, id)
	}
	return doc
}

// withContext writes typ and id into the context of a CDEvent, whose
// attributes must repeat them; any other data is returned as it is.
func withContext(data []byte, typ, id string) []byte {
	var cd map[string]json.RawMessage
	if json.Unmarshal(data, &cd) != nil || cd["context"] == nil {
		return data
	}
	var ctx map[string]json.RawMessage
	if json.Unmarshal(cd["context"], &ctx) != nil || ctx["id"] == nil {
		return data
	}
	withIDTypeOnly(ctx, typ, id)
	raw, err := json.Marshal(ctx)
	if err != nil {
		return data
	}
	cd["context"] = raw
	out, err := json.Marshal(cd)
	if err != nil {
		return data
	}
	return out
}

// withIDTypeOnly writes typ and id into doc.
func withIDTypeOnly(doc map[string]json.RawMessage, typ, id string) {
	for k, v := range map[string]string{"type": typ, "id": id} {
		if raw, err := json.Marshal(v); err == nil {
			doc[k] = raw
		}
	}
}

// encodeHeader percent-encodes an attribute for a header of binary mode:
// space, '"', '%' and anything outside printable ASCII, as UTF-8 bytes.
func encodeHeader(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '"' || c == '%' || c >= 0x7f {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// EventType returns the type of a recorded delivery: its ce-type header,
// else the type of the structured-mode event it holds, or of a batch's
// first event.
func (*Connector) EventType(h http.Header, payload []byte) string {
	if typ, err := headerValue(h, HeaderType); err == nil && typ != "" {
		return typ
	}
	var one struct {
		Type string `json:"type"`
	}
	if connectors.Decode(payload, &one) == nil && one.Type != "" {
		return one.Type
	}
	var batch []struct {
		Type string `json:"type"`
	}
	if connectors.Decode(payload, &batch) == nil && len(batch) > 0 {
		return batch[0].Type
	}
	return ""
}

var _ connectors.Simulator = (*Connector)(nil)
