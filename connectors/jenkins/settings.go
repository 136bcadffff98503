package jenkins

import (
	"fmt"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/internal/loopback"
)

// The places a token may travel, settings.token_in.
const (
	tokenInURL    = "url"
	tokenInHeader = "header"
	tokenInBasic  = "basic"
)

// settings are a source's settings.
type settings struct {
	// TokenIn is where the token travels: "url" (default), "header" or
	// "basic".
	TokenIn string `json:"token_in"`
	// TokenHeader names the header of "header" mode.
	TokenHeader string `json:"token_header"`
	// Confirm, when set, has finished builds confirmed with Jenkins.
	Confirm *confirmSettings `json:"confirm"`
}

// confirmSettings say where and as whom to confirm finished builds.
type confirmSettings struct {
	// URL is Jenkins' root URL, e.g. https://jenkins.example.com.
	URL string `json:"url"`
	// Username is the Jenkins user whose API token is the source's
	// confirmation credential, when the credential names none.
	Username string `json:"username"`
}

// confirmTarget is a checked confirmSettings.
type confirmTarget struct {
	// base is the root URL without a trailing slash.
	base string
	// host names Jenkins in a Confirmation.
	host     string
	username string
}

// settingsSchema is the JSON Schema of the settings.
const settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "token_in": {
      "enum": ["url", "header", "basic"],
      "description": "Where the token travels. url (default): the endpoint is /hooks/<source>/<token>, which every version of the Notification plugin can use. basic: the endpoint URL holds user:password@, which the plugin sends as Basic credentials; the secret is user:password. header: the header token_header holds the secret, for a proxy or another sender that sets it."
    },
    "token_header": {
      "type": "string",
      "pattern": "^[A-Za-z0-9!#$%&'*+.^_|~-]{1,128}$",
      "description": "With token_in header, the header holding the secret, e.g. X-Jenkins-Token. Not a header policies are shown (User-Agent, X-Request-Id, X-Forwarded-For) nor one HTTP gives a meaning (Authorization, Content-*, Host, Cookie)."
    },
    "confirm": {
      "type": "object",
      "additionalProperties": false,
      "required": ["url"],
      "properties": {
        "url": {
          "type": "string",
          "pattern": "^https?://",
          "description": "Jenkins' root URL (https; http only on a loopback address), e.g. https://jenkins.example.com. Finished builds are confirmed there, never at a URL the payload names."
        },
        "username": {
          "type": "string",
          "maxLength": 256,
          "description": "The Jenkins user whose API token is the source's confirmation credential, when the credential names no user."
        }
      },
      "description": "When set, a finished build counts only once Jenkins confirms it: the build exists, is over, and has the result the event says."
    }
  }
}`

// SettingsSchema returns the JSON Schema of the connector's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// Configure applies a source's settings; nil settings keep the defaults:
// the token in the URL, no confirmation.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	switch s.TokenIn {
	case "", tokenInURL, tokenInBasic:
		if s.TokenHeader != "" {
			return fmt.Errorf("settings.token_header: is read only with token_in %q", tokenInHeader)
		}
		c.mode, c.header = tokenInURL, ""
		if s.TokenIn == tokenInBasic {
			c.mode = tokenInBasic
		}
	case tokenInHeader:
		if s.TokenHeader == "" {
			return fmt.Errorf("settings.token_header: is required with token_in %q (e.g. X-Jenkins-Token)", tokenInHeader)
		}
		if err := connectors.CheckCredentialHeader("token_header", s.TokenHeader); err != nil {
			return err
		}
		c.mode, c.header = tokenInHeader, textproto.CanonicalMIMEHeaderKey(s.TokenHeader)
	default:
		return fmt.Errorf("settings.token_in: %q is not a place (url, header or basic)", s.TokenIn)
	}
	c.confirm = nil
	if s.Confirm != nil {
		target, err := checkConfirm(s.Confirm)
		if err != nil {
			return err
		}
		c.confirm = target
	}
	return nil
}

// checkConfirm checks the confirmation settings: Jenkins' root URL, https
// (http on loopback only, for tests), with no user information, query or
// fragment.
func checkConfirm(s *confirmSettings) (*confirmTarget, error) {
	u, err := url.Parse(s.URL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("settings.confirm.url: cannot read the URL: %v", err)
	case u.Host == "" || u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("settings.confirm.url: %q is not an http(s) URL with a host", s.URL)
	case u.Scheme == "http" && !loopback.Host(u.Hostname()):
		return nil, fmt.Errorf("settings.confirm.url: Jenkins is asked with credentials, so only over https (http only on a loopback address)")
	case u.User != nil:
		return nil, fmt.Errorf("settings.confirm.url: holds user information; the credential is the source's confirmation credential")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("settings.confirm.url: has a query or a fragment; give Jenkins' root URL")
	}
	if strings.ContainsAny(s.Username, ":\r\n") {
		return nil, fmt.Errorf("settings.confirm.username: may not hold ':' or a line break")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return &confirmTarget{base: u.String(), host: u.Host, username: s.Username}, nil
}

var _ connectors.Configurable = (*Connector)(nil)
