package pubsub

import (
	"time"

	"github.com/reflexops/reflex/connectors"
)

// SetSignClock sets the clock Sign issues tokens at.
func SetSignClock(c connectors.Connector, now func() time.Time) { c.(*Connector).now = now }

// SetCacheClock sets the clock of the connector's key cache.
func SetCacheClock(c connectors.Connector, now func() time.Time) { c.(*Connector).cache.Now = now }

// ParsedKeySet returns the key set the connector parsed last, to tell
// whether a document was parsed again.
func ParsedKeySet(c connectors.Connector) any { return c.(*Connector).keys.Load() }

// ForgetTokens empties the connector's memory of verified tokens.
func ForgetTokens(c connectors.Connector) {
	tc := &c.(*Connector).tokens
	tc.mu.Lock()
	defer tc.mu.Unlock()
	clear(tc.entries)
}
