package awsevents

import "github.com/reflexops/reflex/connectors"

// EventDocs describes the detail-types Normalize normalizes, for the
// descriptions of the connectors that carry them.
func EventDocs() []connectors.EventDoc {
	return []connectors.EventDoc{
		{Type: TypeCodeBuildState, Kinds: []string{"build.started", "build.finished", "other"}, Note: "build-status IN_PROGRESS; SUCCEEDED, FAILED, FAULT (failure), STOPPED (cancelled), TIMED_OUT; another status is other. The build ARN, project, build-number, log deep-link, repository of source.location, commit or ref of source-version"},
		{Type: TypeECRImageAction, Kinds: []string{"artifact.published", "other"}, Note: "a PUSH with result SUCCESS is published (`<account>.dkr.ecr.<region>.amazonaws.com/<repository>`, tag, digest); a DELETE is other \"deleted\"; a FAILURE other \"push-failed\" or \"delete-failed\""},
		{Type: TypeECRImageScan, Kinds: []string{"other"}, Note: "action \"scanned\" (or \"scan-failed\") with the image; the finding counts stay in the payload"},
	}
}

// Docs returns the links to the AWS documentation of the events
// normalized here.
func Docs() []string {
	return []string{
		"https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html",
		"https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications.html",
		"https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html",
	}
}
