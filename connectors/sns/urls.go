package sns

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/reflexops/reflex/connectors"
)

// snsHost matches the hosts of SNS's regional endpoints,
// sns.<region>.amazonaws.com (amazonaws.com.cn in the China regions),
// the only hosts a signing certificate is fetched from and a
// subscription confirmed at. The region must have a region's shape
// (us-east-1, ap-southeast-2, us-gov-west-1, cn-north-1): the looser
// pattern AWS's own validators use ([a-z0-9-]+ in the middle) also
// matches S3 names such as sns.s3-us-west-2.amazonaws.com, which serve,
// over HTTPS, whatever the owner of a bucket named "sns" puts there.
var snsHost = regexp.MustCompile(`^sns\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com(?:\.cn)?$`)

// maxURL bounds the URLs of a message.
const maxURL = 2048

// checkSNSURL parses rawURL and checks that it is an https URL on an SNS
// endpoint, with nothing that could make it reach another host (user
// information, a port, escapes, backslashes), and returns it with the
// region of its host. what names it in errors.
func checkSNSURL(what, rawURL string) (*url.URL, string, error) {
	if rawURL == "" {
		return nil, "", fmt.Errorf("the message has no %s", what)
	}
	// Escapes are refused before the query (which may escape a topic
	// ARN's colons), whitespace and control characters everywhere.
	beforeQuery, _, _ := strings.Cut(rawURL, "?")
	if len(rawURL) > maxURL || strings.ContainsAny(beforeQuery, "%\\@") || strings.ContainsFunc(rawURL, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, "", fmt.Errorf("the %s is not a plain URL on an Amazon SNS endpoint", what)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("the %s cannot be read as a URL", what)
	}
	if u.Scheme != "https" || u.Opaque != "" || u.User != nil || u.Port() != "" || u.Fragment != "" {
		return nil, "", fmt.Errorf("the %s %s is not an https URL on an Amazon SNS endpoint", what, clip(rawURL, 120))
	}
	m := snsHost.FindStringSubmatch(u.Host)
	if m == nil {
		return nil, "", fmt.Errorf("the %s's host %s is not an Amazon SNS endpoint (sns.<region>.amazonaws.com)", what, clip(u.Host, 80))
	}
	return u, m[1], nil
}

// checkCertURL checks a message's SigningCertURL: an SNS endpoint (see
// checkSNSURL), a path ending in .pem, no query. Errors wrap
// ErrUnauthorized: a certificate from anywhere else proves nothing.
func checkCertURL(rawURL string) error {
	u, _, err := checkSNSURL("SigningCertURL", rawURL)
	if err == nil && (!strings.HasSuffix(u.Path, ".pem") || u.RawQuery != "" || u.ForceQuery) {
		err = fmt.Errorf("the SigningCertURL %s is not a certificate (a path ending in .pem, without a query)", clip(rawURL, 120))
	}
	if err != nil {
		return fmt.Errorf("%w: %v; only certificates SNS publishes on its own endpoints are trusted", connectors.ErrUnauthorized, err)
	}
	return nil
}

// checkSubscribeURL checks a SubscriptionConfirmation's SubscribeURL
// before it is fetched: an SNS endpoint (see checkSNSURL) of the topic's
// own region, its path "/", the ConfirmSubscription action and, when the
// URL names one, the message's topic. Errors wrap ErrUnauthorized.
func checkSubscribeURL(rawURL, topicArn string) error {
	u, region, err := checkSNSURL("SubscribeURL", rawURL)
	if err == nil {
		q := u.Query()
		switch {
		case u.Path != "/" && u.Path != "":
			err = fmt.Errorf("the SubscribeURL's path is not /")
		case q.Get("Action") != "ConfirmSubscription":
			err = fmt.Errorf("the SubscribeURL's Action is not ConfirmSubscription")
		case q.Has("TopicArn") && q.Get("TopicArn") != topicArn:
			err = fmt.Errorf("the SubscribeURL names another topic than the message's")
		case regionOf(topicArn) != region:
			err = fmt.Errorf("the SubscribeURL is not on the SNS endpoint of the topic's region")
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %v; the subscription was not confirmed and nothing was fetched", connectors.ErrUnauthorized, err)
	}
	return nil
}

// regionOf returns the region of an ARN, "" when it is not one.
func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}
