package sns_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/sns"
	"github.com/reflexops/reflex/internal/schemacheck"
)

// TestSettings: what the schema and Configure accept and refuse, each
// refusal naming its field. The schema is checked wherever a source is
// written; Configure again when it is applied.
func TestSettings(t *testing.T) {
	t.Parallel()
	sch, err := schemacheck.Compile("reflex:connectors/sns/settings.json", sns.New().(connectors.Configurable).SettingsSchema())
	if err != nil {
		t.Fatalf("the settings schema: %v", err)
	}
	tests := []struct {
		name     string
		settings string
		wantErr  string // empty: accepted
		// schemaOK: the schema cannot say what is wrong, Configure does.
		schemaOK bool
	}{
		{name: "one topic", settings: `{"topic_arns":["arn:aws:sns:us-east-1:123456789012:reflex-builds"]}`},
		{name: "partitions and fifo", settings: `{"topic_arns":["arn:aws-cn:sns:cn-north-1:123456789012:b","arn:aws-us-gov:sns:us-gov-west-1:123456789012:b","arn:aws:sns:eu-west-1:123456789012:b.fifo"]}`},
		{name: "all settings", settings: `{"topic_arns":["arn:aws:sns:us-east-1:123456789012:b"],"allow_signature_version_1":false,"tolerance":"15m"}`},
		{name: "none", settings: `{}`, wantErr: "topic_arns"},
		{name: "no topic", settings: `{"topic_arns":[]}`, wantErr: "settings.topic_arns"},
		{name: "not an ARN", settings: `{"topic_arns":["reflex-builds"]}`, wantErr: "settings.topic_arns[0]"},
		{name: "a subscription ARN", settings: `{"topic_arns":["arn:aws:sns:us-east-1:123456789012:b:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"]}`, wantErr: "settings.topic_arns[0]"},
		{name: "another service", settings: `{"topic_arns":["arn:aws:sqs:us-east-1:123456789012:b"]}`, wantErr: "settings.topic_arns[0]"},
		{name: "short account", settings: `{"topic_arns":["arn:aws:sns:us-east-1:12345678901:b"]}`, wantErr: "settings.topic_arns[0]"},
		{name: "tolerance too long", settings: `{"topic_arns":["arn:aws:sns:us-east-1:123456789012:b"],"tolerance":"2h"}`, wantErr: "settings.tolerance", schemaOK: true},
		{name: "tolerance not a duration", settings: `{"topic_arns":["arn:aws:sns:us-east-1:123456789012:b"],"tolerance":"soon"}`, wantErr: "settings.tolerance"},
		{name: "version 1 not a boolean", settings: `{"topic_arns":["arn:aws:sns:us-east-1:123456789012:b"],"allow_signature_version_1":"no"}`, wantErr: "settings.allow_signature_version_1"},
		{name: "unknown", settings: `{"topic_arns":["arn:aws:sns:us-east-1:123456789012:b"],"topic":"x"}`, wantErr: "settings.topic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var settings map[string]any
			if err := json.Unmarshal([]byte(tt.settings), &settings); err != nil {
				t.Fatal(err)
			}
			var inst any
			_ = json.Unmarshal([]byte(tt.settings), &inst)
			schemaErr := schemacheck.Validate(sch, "settings", inst)
			c := sns.New()
			configErr := c.(connectors.Configurable).Configure(settings)
			if tt.wantErr == "" {
				if schemaErr != nil || configErr != nil {
					t.Fatalf("schema: %v; Configure: %v", schemaErr, configErr)
				}
				if !c.(connectors.KeyHolder).HasKeys() {
					t.Error("HasKeys is false with topics")
				}
				return
			}
			// The schema names an item as field.N, Configure as field[N].
			field, _, _ := strings.Cut(tt.wantErr, "[")
			switch {
			case tt.schemaOK && schemaErr != nil:
				t.Errorf("schema = %v, want it accepted", schemaErr)
			case !tt.schemaOK && (schemaErr == nil || !strings.Contains(schemaErr.Error(), field)):
				t.Errorf("schema = %v, want an error containing %q", schemaErr, field)
			}
			if configErr == nil || !strings.Contains(configErr.Error(), tt.wantErr) {
				t.Errorf("Configure = %v, want an error containing %q", configErr, tt.wantErr)
			}
		})
	}
}
