// Package gitea is the connector for Gitea and Forgejo webhooks of the
// generic "Gitea" and "Forgejo" types (repository, organization, user and
// system hooks).
//
// It implements the delivery contract documented at
// https://docs.gitea.com/usage/repository/webhooks and
// https://forgejo.org/docs/latest/user/webhooks/, as the senders in
// https://github.com/go-gitea/gitea/blob/main/services/webhook/deliver.go
// and Forgejo's services/webhook/shared/payloader.go build it:
//
//   - The body is the JSON payload, or a form with the JSON in its payload
//     field. Payload shapes follow
//     https://github.com/go-gitea/gitea/blob/main/modules/structs/hook.go.
//   - X-Gitea-Event names the event (Forgejo sends X-Forgejo-Event as well,
//     Gogs-compatible senders X-Gogs-Event); X-Gitea-Event-Type the precise
//     trigger, shown to policies.
//   - X-Gitea-Signature (X-Forgejo-Signature) is the bare lower-case hex
//     HMAC-SHA256 of the JSON payload with the webhook's secret: the raw
//     body, or a form-encoded body's decoded payload field, since Gitea
//     signs the payload and not the form that carries it;
//     X-Hub-Signature-256 carries the same MAC prefixed "sha256=" and is
//     read only when the others are absent. A hook without a secret still
//     sends the headers, empty: such a delivery is refused as unsigned.
//   - X-Gitea-Delivery (X-Forgejo-Delivery) is a UUID per delivery attempt.
//     A redelivery from the webhook page is a new attempt with a new UUID,
//     so de-duplication by delivery id catches automatic duplicates only
//     (one attempt that arrives twice), never a delivery resent by hand.
//
// The optional Authorization header a Gitea webhook can carry is not
// checked: the signature already proves the delivery.
package gitea
