// Package hmac is the generic connector for senders that sign the body
// with an HMAC in a header and have no connector of their own: internal
// tools, CI and deployment scripts, registries and services whose webhook
// settings offer "a secret".
//
// What it verifies is a source's settings: the header that carries the
// signature, the digest (sha256, sha512; sha1 only with allow_sha1), its
// encoding (hex or base64) and prefix (e.g. "sha256="), and optionally a
// timestamp header, in Unix seconds, that is signed with the body (by
// default as "<timestamp>.<body>", settings.signed_template to change
// it) and must lie within settings.tolerance (5 minutes) of the receive
// time. The signature is compared in constant time by connectors/schemes,
// against each of the source's secrets. Without settings.header the
// scheme is the most common one, GitHub's
// (https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries):
// X-Hub-Signature-256 holding "sha256=" and the hex HMAC-SHA256 of the
// raw body (RFC 2104, https://www.rfc-editor.org/rfc/rfc2104). A scheme
// is described whole: algorithm, encoding, prefix and the timestamp
// settings require settings.header, and prefix is then empty unless set.
//
// The delivery id is the header settings.delivery_id_header names; a
// sender without one is de-duplicated by the SHA-256 of the body
// (Event.IDFrom "content-hash"), so a resend is a duplicate only when it
// is byte for byte the same. The event type is the header
// settings.event_type_header names, else the payload member at
// settings.event_type ("type" by default); without one it is "unknown".
// Kinds and fields are read as settings.kinds and settings.normalize
// say, with connectors/pathnorm, exactly as the standard-webhooks
// connector reads them: a type without a kind is unnormalized, and
// without normalize common paths are tried.
//
// The body must be JSON: Content-Type application/json, another "+json"
// type, or none.
package hmac
