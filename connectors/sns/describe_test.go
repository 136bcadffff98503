package sns_test

import (
	"slices"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/awsevents"
	"github.com/reflexops/reflex/connectors/sns"
)

// TestDescribeEvents: the description lists the detail-types awsevents
// normalizes and the three message types, and nothing else.
func TestDescribeEvents(t *testing.T) {
	t.Parallel()
	var described []string
	for _, e := range sns.New().(connectors.Describer).Describe().Events {
		switch {
		case awsevents.Normalizes(e.Type):
		case e.Type == sns.TypeNotification, e.Type == sns.TypeUnsubscribeConfirmation, e.Type == sns.TypeSubscriptionConfirmation:
		default:
			t.Errorf("Describe lists %s, which the connector does not produce", e.Type)
		}
		described = append(described, e.Type)
	}
	for _, typ := range []string{awsevents.TypeCodeBuildState, awsevents.TypeECRImageAction, awsevents.TypeECRImageScan, sns.TypeNotification, sns.TypeUnsubscribeConfirmation, sns.TypeSubscriptionConfirmation} {
		if !slices.Contains(described, typ) {
			t.Errorf("Describe does not list %s", typ)
		}
	}
}
