package sns

import (
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/awsevents"
)

// Describe says how the connector verifies and normalizes an SNS HTTPS
// subscription's messages.
func (*Connector) Describe() connectors.Description {
	events := append(awsevents.EventDocs(),
		connectors.EventDoc{Type: TypeNotification, Kinds: []string{"unnormalized"}, Note: "a notification whose Message is not an EventBridge event (text, other JSON), kept whole in the payload; an EventBridge event of another detail-type is unnormalized under its detail-type"},
		connectors.EventDoc{Type: TypeUnsubscribeConfirmation, Kinds: []string{"other"}, Note: "action \"unsubscribed\": the subscription was deleted, and SNS sends nothing more until it is confirmed again"},
		connectors.EventDoc{Type: TypeSubscriptionConfirmation, Kinds: []string{}, Note: "not an event: answered by the handshake, which confirms the subscription of a topic in settings.topic_arns by fetching its SubscribeURL"},
	)
	return connectors.Description{
		Provider:     "Amazon SNS HTTPS subscriptions (topics that EventBridge rules for AWS CodeBuild and Amazon ECR publish to, or any publisher)",
		Scheme:       "SNS message signature (RSA, SNS's certificate), topic pinned",
		Verification: "the message's own signature: SignatureVersion 2 (SHA256withRSA), or 1 (SHA1withRSA) unless settings.allow_signature_version_1 is false, over the message type's fields, by the certificate at SigningCertURL, fetched and cached only from `https://sns.<region>.amazonaws.com`; the topic one of settings.topic_arns; the Timestamp within settings.tolerance (1h); no shared secret",
		DeliveryID:   "MessageId, which SNS keeps when it retries",
		Setup:        "settings.topic_arns; an HTTPS subscription of the topic to the source's URL, raw message delivery off (the topic's SignatureVersion attribute 2 recommended); the subscription is confirmed when SNS sends its confirmation",
		Events:       events,
		Docs: append([]string{
			"https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html",
			"https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html",
			"https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html",
			"https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html",
		}, awsevents.Docs()...),
	}
}

var _ connectors.Describer = (*Connector)(nil)
