package pubsub

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
)

// DefaultKeysURL is where Google publishes the keys that sign its OIDC
// tokens, as a JSON Web Key Set.
const DefaultKeysURL = "https://www.googleapis.com/oauth2/v3/certs"

// DefaultIssuers are the iss claims of Google's OIDC tokens.
var DefaultIssuers = []string{"https://accounts.google.com", "accounts.google.com"}

// Bounds of the settings.
const (
	maxAudience        = 2048
	maxServiceAccounts = 16
	maxSubscriptions   = 64
	maxSubscription    = 255
	maxIssuers         = 8
)

// subscriptionPattern is a subscription's full name. Project ids and
// subscription ids use letters, digits and -._~%+ (a domain-scoped project
// "example.com:proj" a ':').
var subscriptionPattern = regexp.MustCompile(`^projects/[A-Za-z0-9.:_~%+-]+/subscriptions/[A-Za-z0-9._~%+-]+$`)

// settingsSchema is the JSON Schema of a source's settings.
var settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["audience", "service_accounts"],
  "properties": {
    "audience": {
      "description": "The audience of the push subscription's OIDC token: the audience configured on the subscription, or, when it has none, the push endpoint URL (https://reflex.example.com/hooks/<source>). A token for any other audience is refused.",
      "type": "string", "minLength": 1, "maxLength": ` + fmt.Sprint(maxAudience) + `
    },
    "service_accounts": {
      "description": "The service accounts the push subscriptions authenticate as (their push auth service account): a token's email claim must be one of them, and verified.",
      "type": "array", "minItems": 1, "maxItems": ` + fmt.Sprint(maxServiceAccounts) + `, "uniqueItems": true,
      "items": {"type": "string", "minLength": 3, "maxLength": 254, "pattern": "^[^@\\s]+@[^@\\s]+$"}
    },
    "keys_url": {
      "description": "Where the JSON Web Key Set that signs the tokens is fetched: https, or http on a loopback address (an air-gapped mirror). Default ` + DefaultKeysURL + `.",
      "type": "string", "minLength": 1, "maxLength": 2048
    },
    "issuers": {
      "description": "The iss claims accepted. Default https://accounts.google.com and accounts.google.com.",
      "type": "array", "minItems": 1, "maxItems": ` + fmt.Sprint(maxIssuers) + `, "uniqueItems": true,
      "items": {"type": "string", "minLength": 1, "maxLength": 256}
    },
    "subscriptions": {
      "description": "The subscriptions deliveries are accepted from, by full name (projects/<project>/subscriptions/<subscription>). Default: any subscription whose token passes.",
      "type": "array", "minItems": 1, "maxItems": ` + fmt.Sprint(maxSubscriptions) + `, "uniqueItems": true,
      "items": {"type": "string", "maxLength": ` + fmt.Sprint(maxSubscription) + `, "pattern": "` + strings.ReplaceAll(subscriptionPattern.String(), `\`, `\\`) + `"}
    }
  }
}`

// SettingsSchema returns the JSON Schema of a source's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// settings are a source's settings.
type settings struct {
	Audience        string   `json:"audience"`
	ServiceAccounts []string `json:"service_accounts"`
	KeysURL         *string  `json:"keys_url"`
	Issuers         []string `json:"issuers"`
	Subscriptions   []string `json:"subscriptions"`
}

// Configure applies a source's settings; errors name the field. Settings
// without an audience or a service account leave a connector that
// refuses every delivery (HasKeys is false).
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	if len(s.Audience) > maxAudience {
		return fmt.Errorf("settings.audience: longer than %d characters", maxAudience)
	}
	if raw["audience"] != nil && strings.TrimSpace(s.Audience) == "" {
		return fmt.Errorf("settings.audience: is empty; give the push endpoint URL or the audience configured on the subscription")
	}
	if raw["service_accounts"] != nil && len(s.ServiceAccounts) == 0 {
		return fmt.Errorf("settings.service_accounts: is empty; give the email of the push subscription's service account")
	}
	for i, sa := range s.ServiceAccounts {
		if err := checkEmail(sa); err != nil {
			return fmt.Errorf("settings.service_accounts[%d]: %w", i, err)
		}
	}
	keysURL := DefaultKeysURL
	if s.KeysURL != nil {
		if err := keyfetch.CheckURL(*s.KeysURL); err != nil {
			return fmt.Errorf("settings.keys_url: %w", err)
		}
		keysURL = *s.KeysURL
	}
	issuers := DefaultIssuers
	if s.Issuers != nil {
		if len(s.Issuers) == 0 || len(s.Issuers) > maxIssuers {
			return fmt.Errorf("settings.issuers: give 1 to %d issuers", maxIssuers)
		}
		for i, iss := range s.Issuers {
			if iss == "" {
				return fmt.Errorf("settings.issuers[%d]: is empty", i)
			}
		}
		issuers = s.Issuers
	}
	if s.Subscriptions != nil && len(s.Subscriptions) == 0 {
		return fmt.Errorf("settings.subscriptions: is empty; leave it out to accept any subscription")
	}
	for i, sub := range s.Subscriptions {
		if len(sub) > maxSubscription || !subscriptionPattern.MatchString(sub) {
			return fmt.Errorf("settings.subscriptions[%d]: %q is not a subscription's full name, projects/<project>/subscriptions/<subscription>", i, sub)
		}
	}
	c.audience = s.Audience
	c.serviceAccounts = lower(s.ServiceAccounts)
	c.keysURL = keysURL
	c.issuers = issuers
	c.subscriptions = s.Subscriptions
	return nil
}

// checkEmail checks a service account's email address.
func checkEmail(addr string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" {
		return fmt.Errorf("%q is not an email address such as push@my-project.iam.gserviceaccount.com", addr)
	}
	return nil
}

// lower returns emails in lower case, as they are compared.
func lower(emails []string) []string {
	out := make([]string, len(emails))
	for i, e := range emails {
		out[i] = strings.ToLower(e)
	}
	return out
}

// HasKeys reports whether the settings name an audience and a service
// account, so that a token can be checked: a Pub/Sub source verifies with
// Google's published keys and needs no shared secret.
func (c *Connector) HasKeys() bool {
	return c.audience != "" && len(c.serviceAccounts) > 0
}
