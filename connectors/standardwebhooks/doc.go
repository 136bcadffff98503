// Package standardwebhooks is the connector for any sender that signs its
// webhooks the Standard Webhooks way (Svix and the services built on it,
// and the many senders that adopted the specification).
//
// It implements the Standard Webhooks specification 1.0.0,
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
// (also at https://www.standardwebhooks.com): a delivery carries
// webhook-id, the message id that a retry keeps and so the
// de-duplication key; webhook-timestamp, the Unix seconds of the attempt;
// and webhook-signature, a space-separated list of "v1,<base64
// HMAC-SHA256>" (the secret is "whsec_" and base64) and "v1a,<base64
// Ed25519>" signatures of "<id>.<timestamp>.<body>". Any one signature by
// one of the source's secrets or pinned public keys ("whpk_…" in
// settings.public_keys, never taken from a request) is enough; a
// timestamp further than settings.tolerance (5 minutes by default, as the
// reference libraries use) from the receive time is refused either way.
// Svix's svix-id, svix-timestamp and svix-signature headers are read when
// the webhook- ones are absent. Verification is connectors/schemes'.
//
// The specification recommends a payload of {"type", "timestamp",
// "data"}, but leaves its shape to the sender, so the event is read with
// connectors/pathnorm:
//
//   - Event.Type is the member settings.event_type names ("type" by
//     default): letters, digits, '.', '_', '-' and ':', at most 128; a
//     payload without one is kept as type "unknown", one whose type holds
//     anything else is refused as malformed.
//   - Event.Kind is what settings.kinds maps the type to, e.g.
//     {"image.pushed": "artifact.published"}, or a kind the payload names
//     where settings.normalize.kind points. Nothing is guessed from a
//     type's name: any other type is unnormalized, with its fields.
//   - The fields come from the paths of settings.normalize, e.g.
//     {"artifact.digest": "data.digest", "commit": "data.after|data.sha"}.
//     Without it, common paths are tried (pathnorm.DefaultNormalize):
//     repository.full_name, data.repository.full_name or a string
//     repository; ref; after, commit or sha; before; sender.login or
//     actor; html_url or url; each at the top level or under data. A
//     normalize setting
//     replaces these guesses entirely: a sender's own shape is described
//     in full, so that a guess cannot put an image repository where a
//     code repository belongs. pathnorm's documentation lists the fields.
//
// The body must be JSON: Content-Type application/json, another
// "+json" type, or none.
package standardwebhooks
