package connectors

import "encoding/json"

// EditMembers returns payload with edit applied to its top-level members,
// for a Simulator that writes the event type or the delivery id into the
// payload as its provider would. A payload that is not a JSON object is
// returned as it is.
func EditMembers(payload []byte, edit func(doc map[string]json.RawMessage)) []byte {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(payload, &doc); err != nil || doc == nil {
		return payload
	}
	edit(doc)
	body, err := json.Marshal(doc)
	if err != nil {
		return payload
	}
	return body
}

// JSONString returns s as a JSON string, a member value for EditMembers.
func JSONString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
