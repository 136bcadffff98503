package sns

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/reflexops/reflex/connectors"
)

// DefaultTolerance is how far a message's Timestamp may lie from the
// receive time when settings.tolerance is not set: SNS signs a message
// once, and its retries (up to an hour under any delivery policy) carry
// the first Timestamp.
const DefaultTolerance = time.Hour

// maxTopics bounds settings.topic_arns.
const maxTopics = 32

// topicArnPattern is the shape of an SNS topic ARN, in the partitions
// whose endpoints are sns.<region>.amazonaws.com(.cn): aws, aws-cn,
// aws-us-gov.
const topicArnPattern = `^arn:aws(?:-cn|-us-gov)?:sns:[a-z]{2}(?:-[a-z]+)+-[0-9]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$`

var topicArn = regexp.MustCompile(topicArnPattern)

// settings are a source's settings.
type settings struct {
	// TopicArns are the topics whose messages the source accepts and
	// whose subscriptions it confirms. Required.
	TopicArns []string `json:"topic_arns"`
	// AllowSignatureVersion1 accepts SHA1withRSA signatures, which SNS
	// sends unless the topic's SignatureVersion is 2. Default true.
	AllowSignatureVersion1 *bool `json:"allow_signature_version_1"`
	// Tolerance bounds a message's age. Default DefaultTolerance.
	Tolerance json.RawMessage `json:"tolerance"`
}

// settingsSchema is the JSON Schema of the settings.
var settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["topic_arns"],
  "properties": {
    "topic_arns": {
      "description": "The ARNs of the SNS topics this source takes messages from, e.g. arn:aws:sns:eu-west-1:123456789012:builds. A message of any other topic is refused, and only these topics' subscriptions are confirmed.",
      "type": "array",
      "minItems": 1,
      "maxItems": ` + fmt.Sprint(maxTopics) + `,
      "uniqueItems": true,
      "items": {"type": "string", "pattern": ` + quoteJSON(topicArnPattern) + `}
    },
    "allow_signature_version_1": {
      "description": "Accept messages signed with SignatureVersion 1 (SHA1withRSA), which SNS sends unless the topic's SignatureVersion attribute is set to 2. Set the topic to 2 and this to false to accept SHA256withRSA only. Default true.",
      "type": "boolean",
      "default": true
    },
    "tolerance": {
      "description": "How far a message's signed Timestamp may lie from the receive time, either way, as a Go duration, at most 1h. SNS's retries keep the first Timestamp, for up to an hour. Default \"1h\".",
      "default": "1h",
      "allOf": [` + connectors.DurationSchema + `]
    }
  }
}`

// quoteJSON returns s as a JSON string.
func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// SettingsSchema returns the JSON Schema of the connector's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// Configure applies a source's settings. settings.topic_arns is required:
// without it the connector refuses every message.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	if len(s.TopicArns) == 0 {
		return fmt.Errorf("settings.topic_arns: name the SNS topics this source takes messages from")
	}
	if len(s.TopicArns) > maxTopics {
		return fmt.Errorf("settings.topic_arns: at most %d topics", maxTopics)
	}
	for i, arn := range s.TopicArns {
		if !topicArn.MatchString(arn) {
			return fmt.Errorf("settings.topic_arns[%d]: %s is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)", i, clip(arn, 300))
		}
	}
	tolerance := DefaultTolerance
	if len(s.Tolerance) > 0 {
		var d connectors.Duration
		if err := json.Unmarshal(s.Tolerance, &d); err != nil {
			return fmt.Errorf("settings.tolerance: %w", err)
		}
		if err := connectors.CheckTolerance("tolerance", time.Duration(d)); err != nil {
			return err
		}
		tolerance = time.Duration(d)
	}
	c.topics = slices.Compact(slices.Sorted(slices.Values(s.TopicArns)))
	c.allowV1 = s.AllowSignatureVersion1 == nil || *s.AllowSignatureVersion1
	c.tolerance = tolerance
	return nil
}

// HasKeys reports whether settings.topic_arns names a topic: the keys
// that verify a message are SNS's, fetched from its endpoints, so a
// source needs no shared secret once it says which topics it trusts.
func (c *Connector) HasKeys() bool { return len(c.topics) > 0 }

// allowsTopic reports whether arn is one of settings.topic_arns.
func (c *Connector) allowsTopic(arn string) bool {
	_, found := slices.BinarySearch(c.topics, arn)
	return found
}

var (
	_ connectors.Configurable = (*Connector)(nil)
	_ connectors.KeyHolder    = (*Connector)(nil)
)
