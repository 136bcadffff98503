package connectors

import (
	"crypto/sha256"
	"encoding/hex"
)

// IDFromContentHash is what event.Event.IDFrom says of an id that is a
// content hash: the provider sends no delivery id, so a resent delivery
// is a duplicate only when its body is byte for byte the same.
const IDFromContentHash = "content-hash"

// IDFromAttributes is what event.Event.IDFrom says of an id made from a
// CloudEvent's attributes: a hash of its source and id, the pair the
// CloudEvents specification makes unique.
const IDFromAttributes = "attributes"

// ContentHash returns the id of a delivery whose provider sends none:
// "sha256-" and the hex SHA-256 of its body.
func ContentHash(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256-" + hex.EncodeToString(sum[:])
}

// MaxDeliveryID is the longest delivery id Reflex keeps.
const MaxDeliveryID = 128

// CheckDeliveryID checks a delivery id taken from a header or a payload:
// at most MaxDeliveryID letters, digits, '-', '_' or '.', the characters
// that are safe in storage keys and URLs. what names where it came from
// in the error, e.g. "the X-Request-UUID header". Errors wrap
// ErrMalformed.
func CheckDeliveryID(what, id string) error {
	return CheckValue(what, id, MaxDeliveryID, func(_ int, r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
	}, "letters, digits, '-', '_' and '.'")
}
