package awsevents

import (
	"fmt"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// The detail-types this package normalizes, as Event.Type holds them.
const (
	TypeCodeBuildState = "CodeBuild Build State Change"
	TypeECRImageAction = "ECR Image Action"
	TypeECRImageScan   = "ECR Image Scan"
)

// MaxDetailType bounds a detail-type: EventBridge's own limit for the
// events an application puts is 128 characters.
const MaxDetailType = 128

// Event is an EventBridge event: the envelope, and of the detail the
// fields the normalized detail-types use.
type Event struct {
	// Version is the envelope's version, "0".
	Version string `json:"version"`
	// ID is the event id, unique per event: the delivery id of an API
	// destination's delivery.
	ID string `json:"id"`
	// DetailType says what happened, e.g. "ECR Image Action".
	DetailType string `json:"detail-type"`
	// Source is the emitting service, e.g. "aws.codebuild".
	Source string `json:"source"`
	// Account is the AWS account id, 12 digits.
	Account string `json:"account"`
	// Time is when the event happened, RFC 3339.
	Time string `json:"time"`
	// Region is the AWS region, e.g. "eu-west-1".
	Region string `json:"region"`
	// Resources lists the ARNs the event concerns.
	Resources []string `json:"resources"`
	// Detail holds the fields of the normalized detail-types.
	Detail Detail `json:"detail"`
}

// Detail is the union of the detail fields the normalized detail-types
// use; the rest of a detail stays in the payload.
type Detail struct {
	// BuildStatus is a CodeBuild build's status, e.g. "SUCCEEDED".
	BuildStatus string `json:"build-status"`
	// ProjectName is the CodeBuild project.
	ProjectName string `json:"project-name"`
	// BuildID is the build's ARN.
	BuildID string `json:"build-id"`
	// Info is CodeBuild's additional-information.
	Info *BuildInfo `json:"additional-information"`

	// ActionType is an ECR image action: "PUSH" or "DELETE".
	ActionType string `json:"action-type"`
	// Result is an ECR image action's result: "SUCCESS" or "FAILURE".
	Result string `json:"result"`
	// RepositoryName is the ECR repository, without the registry host.
	RepositoryName string `json:"repository-name"`
	// ImageDigest is the image's digest, "sha256:…".
	ImageDigest string `json:"image-digest"`
	// ImageTag is the tag an image action concerns; absent for an
	// untagged image.
	ImageTag string `json:"image-tag"`
	// ScanStatus is an image scan's status: "COMPLETE" or "FAILED".
	ScanStatus string `json:"scan-status"`
	// ImageTags are the tags of a scanned image.
	ImageTags []string `json:"image-tags"`
}

// BuildInfo is the part of a CodeBuild event's additional-information
// the normalization uses.
type BuildInfo struct {
	// SourceVersion is what was built: a commit, a ref, "ref^{commit}".
	SourceVersion string `json:"source-version"`
	// Source is the build's primary source.
	Source struct {
		// Location is the repository URL (or S3 object) built.
		Location string `json:"location"`
		// Type is the source's type, e.g. "GITHUB" or "S3".
		Type string `json:"type"`
	} `json:"source"`
	// BuildNumber numbers the project's builds from 1.
	BuildNumber float64 `json:"build-number"`
	// StartTime is when the build started, e.g. "Sep 1, 2017 4:12:29 PM".
	StartTime string `json:"build-start-time"`
	// Logs holds the build's CloudWatch Logs stream.
	Logs struct {
		// DeepLink is the console page of the build's log stream.
		DeepLink string `json:"deep-link"`
	} `json:"logs"`
	// Initiator is who or what started the build: an IAM user,
	// "codepipeline/<pipeline>", "GitHub-Hookshot/…".
	Initiator string `json:"initiator"`
}

// ErrNotEvent is wrapped by the error Decode returns for data that is
// not a JSON object at all, and so not an event of any detail-type.
var ErrNotEvent = fmt.Errorf("%w: not an EventBridge event", connectors.ErrMalformed)

// envelope is Event without its detail, for an event whose detail has
// another shape than the normalized detail-types'.
type envelope struct {
	ID         string `json:"id"`
	DetailType string `json:"detail-type"`
}

// Decode decodes an EventBridge event. An event of a detail-type this
// package does not normalize is decoded whatever its detail holds; one it
// normalizes must have the documented shape. It does not require the id
// or the detail-type: IsEvent says whether they are there. Errors wrap
// connectors.ErrMalformed, and ErrNotEvent when data is no JSON object.
func Decode(data []byte) (*Event, error) {
	var e Event
	err := connectors.Decode(data, &e)
	if err == nil {
		return &e, nil
	}
	var env envelope
	if bare := connectors.Decode(data, &env); bare != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEvent, bare)
	}
	if Normalizes(env.DetailType) {
		return nil, fmt.Errorf("%w: the %s event does not have the documented shape: %v", connectors.ErrMalformed, env.DetailType, err)
	}
	return &Event{ID: env.ID, DetailType: env.DetailType}, nil
}

// IsEvent reports whether e has what every EventBridge event has: an id
// and a detail-type.
func (e *Event) IsEvent() bool { return e.ID != "" && e.DetailType != "" }

// Normalizes reports whether detailType is one this package normalizes.
func Normalizes(detailType string) bool {
	switch detailType {
	case TypeCodeBuildState, TypeECRImageAction, TypeECRImageScan:
		return true
	}
	return false
}

// CheckDetailType checks a detail-type before it becomes Event.Type.
// Errors wrap connectors.ErrMalformed.
func CheckDetailType(detailType string) error {
	return connectors.CheckValue("the event's detail-type", detailType, MaxDetailType, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			i > 0 && (r == ' ' || r == '-' || r == '_' || r == '.' || r == ':' || r == '/' || r == '(' || r == ')')
	}, "letters, digits, spaces and - _ . : / ( ), starting with a letter or digit")
}

// Normalize fills ev from the event: Type (the detail-type, checked with
// CheckDetailType), Kind, and the fields of a normalized detail-type;
// another detail-type is unnormalized. It leaves ev's ID alone. Errors
// wrap connectors.ErrMalformed.
func (e *Event) Normalize(ev *event.Event) error {
	if err := CheckDetailType(e.DetailType); err != nil {
		return err
	}
	ev.Type = e.DetailType
	switch e.DetailType {
	case TypeCodeBuildState:
		e.normalizeBuild(ev)
	case TypeECRImageAction:
		e.normalizeImageAction(ev)
	case TypeECRImageScan:
		e.normalizeImageScan(ev)
	default:
		ev.Kind = event.KindUnnormalized
	}
	return nil
}

// eventTime returns the envelope's time, nil when it is absent or
// unreadable.
func (e *Event) eventTime() *time.Time {
	t, err := time.Parse(time.RFC3339, e.Time)
	if err != nil || t.Unix() <= 0 {
		return nil
	}
	t = t.UTC()
	return &t
}
