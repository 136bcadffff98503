package sns

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
)

// Bounds of a confirmation.
const (
	// confirmTimeout bounds the GET of a SubscribeURL; SNS waits 15
	// seconds for the answer, and the certificate may need a fetch too.
	confirmTimeout = keyfetch.DefaultTimeout
	// maxConfirmAnswer bounds what is read of SNS's answer.
	maxConfirmAnswer = 64 << 10
	// maxConfirmed bounds the confirmations remembered.
	maxConfirmed = 256
)

// Handshake confirms a subscription: a SubscriptionConfirmation (the
// x-amz-sns-message-type header says so, or, without the header, the
// body) is verified as Verify verifies a message, so a topic not in
// settings.topic_arns is refused before anything is fetched; then its
// SubscribeURL, which must be https on the SNS endpoint of the topic's
// region with the ConfirmSubscription action, is fetched once, with the
// key client of ctx, a timeout and no redirect, and the answer names the
// topic. A confirmation already answered (a retry or a replay within the
// tolerance) is answered without fetching again. Every other request is
// left to Verify and Parse: an UnsubscribeConfirmation is recorded as an
// event. When SNS cannot be reached the error wraps ErrUnavailable (503),
// so SNS sends the confirmation again.
func (c *Connector) Handshake(ctx context.Context, req *connectors.Request, _ [][]byte) (*connectors.Reply, bool, error) {
	if req.Method != "" && req.Method != http.MethodPost {
		return nil, false, nil
	}
	header := req.Header.Get(HeaderMessageType)
	if header != "" && header != TypeSubscriptionConfirmation {
		return nil, false, nil
	}
	m, err := decodeMessage(req.Body)
	switch {
	case header == "" && (err != nil || m.Type != TypeSubscriptionConfirmation):
		// Not a confirmation: Verify and Parse say what it is.
		return nil, false, nil
	case err != nil:
		return nil, true, err
	}
	if err := m.checkHeaders(req.Header); err != nil {
		return nil, true, err
	}
	if err := c.verify(ctx, m, req.ReceivedAt); err != nil {
		return nil, true, err
	}
	if err := connectors.CheckDeliveryID("the message's MessageId", m.MessageID); err != nil {
		return nil, true, err
	}
	if err := checkSubscribeURL(m.SubscribeURL, m.TopicArn); err != nil {
		return nil, true, err
	}
	if !c.confirmed.begin(m.MessageID, req.ReceivedAt, c.tolerance) {
		return &connectors.Reply{Status: http.StatusOK, Message: fmt.Sprintf("the subscription to %s was confirmed already", m.TopicArn)}, true, nil
	}
	subscription, err := confirm(ctx, m.SubscribeURL)
	if err != nil {
		c.confirmed.forget(m.MessageID)
		return nil, true, err
	}
	msg := fmt.Sprintf("subscription to %s confirmed", m.TopicArn)
	if subscription != "" {
		msg += " (" + subscription + ")"
	}
	return &connectors.Reply{Status: http.StatusOK, Message: msg}, true, nil
}

// confirm fetches a SubscribeURL and returns the subscription ARN SNS
// answers with ("" when it names none of the expected shape).
func confirm(ctx context.Context, subscribeURL string) (string, error) {
	u, _ := url.Parse(subscribeURL)
	ctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	client := *keyfetch.ClientFrom(ctx)
	client.CheckRedirect = func(*http.Request, []*http.Request) error {
		return errors.New("SNS answered with a redirect")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, subscribeURL, nil)
	if err != nil {
		return "", fmt.Errorf("%w: the SubscribeURL: %v", connectors.ErrMalformed, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL holds the subscription's token: say what failed
		// without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("%w: confirming the subscription at %s: %v", connectors.ErrUnavailable, u.Host, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxConfirmAnswer))
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return "", fmt.Errorf("%w: confirming the subscription at %s: %s", connectors.ErrUnavailable, u.Host, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("%w: %s refused to confirm the subscription: %s (a confirmation token lasts three days; request a new confirmation from the subscription)", connectors.ErrMalformed, u.Host, resp.Status)
	case err != nil:
		return "", fmt.Errorf("%w: confirming the subscription at %s: %v", connectors.ErrUnavailable, u.Host, err)
	}
	var r struct {
		SubscriptionArn string `xml:"ConfirmSubscriptionResult>SubscriptionArn"`
	}
	if xml.Unmarshal(answer, &r) != nil || !isSubscriptionArn(r.SubscriptionArn) {
		return "", nil
	}
	return r.SubscriptionArn, nil
}

// isSubscriptionArn reports whether s has a subscription ARN's shape: a
// topic ARN and the subscription's id.
func isSubscriptionArn(s string) bool {
	i := len(s) - 1
	for i >= 0 && s[i] != ':' {
		i--
	}
	return i > 0 && topicArn.MatchString(s[:i]) && len(s)-i-1 <= 64 && connectors.CheckDeliveryID("", s[i+1:]) == nil
}

// confirmations remembers the SubscriptionConfirmations answered, by
// MessageId, as long as the tolerance lets them be sent again.
type confirmations struct {
	mu   sync.Mutex
	done map[string]time.Time
}

// begin records a confirmation about to be made and reports whether it
// must be: false when it was made (or is being made) already.
func (c *confirmations) begin(id string, now time.Time, tolerance time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at, ok := c.done[id]; ok && now.Sub(at) <= 2*tolerance {
		return false
	}
	if c.done == nil {
		c.done = map[string]time.Time{}
	}
	if len(c.done) >= maxConfirmed {
		for k, at := range c.done {
			if now.Sub(at) > 2*tolerance || at.After(now) {
				delete(c.done, k)
			}
		}
	}
	if len(c.done) < maxConfirmed {
		c.done[id] = now
	}
	return true
}

// forget drops a confirmation that failed, so the next try makes it.
func (c *confirmations) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.done, id)
}

var _ connectors.Handshaker = (*Connector)(nil)
