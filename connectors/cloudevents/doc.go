// Package cloudevents is the connector for CloudEvents 1.0 delivered over
// HTTP, and for CDEvents, the continuous-delivery events that travel as
// CloudEvents.
//
// It implements the HTTP protocol binding,
// https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md,
// with the JSON event format,
// https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md,
// and the webhook profile,
// https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/http-webhook.md:
//
//   - Binary mode: the attributes in ce-* headers, percent-decoded (and
//     unquoted) as the binding requires, the body the data and
//     Content-Type its media type. The stored payload is the event in
//     structured mode, built from the attributes and the data ("data" when
//     the data is JSON, "data_base64" otherwise), so nothing sent is lost.
//   - Structured mode (application/cloudevents+json): the body is the
//     event, stored as sent.
//   - Batched mode (application/cloudevents-batch+json): each event of
//     the batch (at most connectors.MaxBatch) is stored as in structured
//     mode, and de-duplicated and decided on its own; one malformed event
//     refuses the whole batch before any is queued, and an empty batch is
//     answered without storing anything.
//
// Only specversion 1.0 is accepted. CloudEvents makes (source, id) unique,
// so the delivery id is "ce-" and 40 hex digits of the SHA-256 of the two,
// whatever the mode; Event.IDFrom says "attributes".
//
// CloudEvents itself signs nothing. The webhook profile authorizes with a
// bearer token (Authorization: Bearer, or the access_token query
// parameter); senders that sign instead use an HMAC of the body in a
// header or Standard Webhooks. A source chooses one with the auth setting
// (default "hmac"). An HMAC or a token covers the body only: in binary
// mode the attributes travel in headers nobody signed. For a CDEvent they
// must repeat its context (id, source, type), which the body carries, so
// a replay cannot change them; for any other event sent in binary mode, a
// replayer who changes ce-id gets past de-duplication. Senders that can
// should use structured mode or Standard Webhooks, which signs the id.
//
// The webhook profile's abuse-protection handshake is answered
// (connectors.Handshaker): an OPTIONS request with WebHook-Request-Origin
// gets WebHook-Allowed-Origin and WebHook-Allowed-Rate. A
// WebHook-Request-Callback URL is never called, as that would let a sender
// make Reflex request any URL; permission is granted in the answer itself.
//
// CDEvents (https://github.com/cdevents/spec, the CloudEvents binding at
// https://github.com/cdevents/spec/blob/v0.5.1/cloudevents-binding.md) are
// CloudEvents of type dev.cdevents.<subject>.<predicate>.<version> whose
// data is the CDEvent (context, subject, customData). Changes, branches,
// pipeline runs, task runs, builds, artifacts and services are normalized
// whatever the version of their type; any other CloudEvent is accepted
// unnormalized. A CDEvent whose attributes differ from its context is
// refused (400).
package cloudevents
