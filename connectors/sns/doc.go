// Package sns is the connector for Amazon SNS HTTPS subscriptions: a
// topic delivers each message published to it, such as the events an
// EventBridge rule for AWS CodeBuild or Amazon ECR publishes there, to
// Reflex.
//
// It implements the delivery contract documented at
// https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
// (the three message types, their headers and JSON bodies, sent with
// Content-Type text/plain), the signature check at
// https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
// and the confirmation at
// https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html.
//
// # Verification
//
// An SNS message signs itself, in its body; a source needs no shared
// secret, only the topics it trusts (settings.topic_arns, required; the
// connector is a connectors.KeyHolder once they are set). Verify decodes
// the body, the one connector allowed to before the signature is checked
// (the signature covers its fields), and checks, cheapest first, so that
// nothing is fetched for a message refused on its face:
//
//  1. the TopicArn is in settings.topic_arns;
//  2. the SignatureVersion is "2" (SHA256withRSA) or "1" (SHA1withRSA).
//     Version 1 is what a topic signs with unless its SignatureVersion
//     attribute is set to 2, so settings.allow_signature_version_1
//     defaults to true; set the topic to 2 and the setting to false to
//     refuse SHA-1;
//  3. the Timestamp lies within settings.tolerance of the receive time,
//     default and at most an hour (connectors.CheckTolerance). AWS
//     documents no tolerance (UNCONFIRMED that one exists); SNS signs a
//     message once and keeps its Timestamp through retries, which last
//     at most an hour under any delivery policy, so an hour bounds
//     replays without refusing a retry;
//  4. the SigningCertURL is https on sns.<region>.amazonaws.com (or
//     amazonaws.com.cn), without user information, port, escapes or a
//     query, its path ending in .pem. The region must have a region's
//     shape: the looser host pattern of AWS's own validators,
//     ^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$, also matches
//     sns.s3-us-west-2.amazonaws.com, which is an S3 bucket's;
//  5. the certificate, fetched with the keyfetch.Cache of the connector
//     (once per cache period, a timeout, ErrUnavailable and so 503 when
//     it cannot be had; at most 16 URLs not fetched before per minute),
//     parsed once per document, an RSA key of at least 2048 bits, valid
//     at the receive time, verifies the PKCS #1 v1.5 signature of the
//     string to sign: for a Notification Message, MessageId, Subject
//     (when the message has one), Timestamp, TopicArn and Type; for a
//     SubscriptionConfirmation or UnsubscribeConfirmation Message,
//     MessageId, SubscribeURL, Timestamp, Token, TopicArn and Type; each
//     "name\nvalue\n".
//
// The certificate is trusted for where it comes from (https, SNS's own
// endpoint, the server's trusted roots), as AWS's SDK validators trust
// it; its chain is not checked further. The x-amz-sns-* headers are not
// signed: when present they must agree with the message. A raw message
// delivery carries no signature and is refused: keep it off.
//
// # Confirmation
//
// SNS confirms a subscription before it delivers anything. Handshake
// (connectors.Handshaker) takes the SubscriptionConfirmation, verifies it
// as above (a topic not in settings.topic_arns is refused with
// ErrUnauthorized naming it, before anything is fetched), checks its
// SubscribeURL (https, the SNS endpoint of the topic's region, path /,
// Action=ConfirmSubscription, the message's topic) and GETs it once, with
// the key client of the request's context, a timeout and no redirect,
// answering 200 with a message naming the topic. A confirmation already
// made (SNS's retry, or a replay within the tolerance) is answered
// without another GET. SNS unreachable is ErrUnavailable, so SNS sends
// the confirmation again. Parse, which the intake never lets see a
// SubscriptionConfirmation, makes it a ping.
//
// An UnsubscribeConfirmation says the subscription was deleted. It is
// verified like any message and recorded: an event of type
// UnsubscribeConfirmation, kind other, Action "unsubscribed", queued and
// kept in the event history like any other, so its 202 tells SNS it was
// received. Its SubscribeURL, which would subscribe again, is never
// fetched.
//
// # Events
//
// The delivery id is the MessageId, which SNS keeps when it retries. The
// payload stored is the SNS message whole, as signed (its Message holds
// the published text). A Notification whose Message is an EventBridge
// event is normalized by package awsevents, its event type the
// detail-type (e.g. "CodeBuild Build State Change"); any other Message
// (text, JSON of another shape) is unnormalized with the type
// "Notification".
//
// # Replaying deliveries
//
// Only SNS can sign for SNS. The fixtures are signed with a test key
// (testdata/sns-test-key.pem), whose certificate the tests serve as if
// from sns.us-east-1.amazonaws.com through keyfetch.WithClient;
// UPDATE_SNS_FIXTURES=1 go test ./connectors/sns signs them again.
// Sign treats a secret that is a PEM RSA private key as SNS's key and
// signs the message in place (any other secret changes nothing); Delivery
// sends a recorded message as it is and wraps any other payload in a
// Notification for Sign to sign. Such deliveries verify only on a server
// whose key client trusts the test key's certificate.
package sns
