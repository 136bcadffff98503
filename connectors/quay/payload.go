package quay

import (
	"bytes"
	"fmt"
	"slices"

	gojson "github.com/goccy/go-json"
)

// payload is the part of a Quay notification the connector reads: the
// repository's fields every event has, and those of each event, which
// also tell the events apart (see shapeOf).
type payload struct {
	Repository string `json:"repository"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	DockerURL  string `json:"docker_url"`
	Homepage   string `json:"homepage"`

	// repo_push
	UpdatedTags *tagList `json:"updated_tags"`

	// build_*
	BuildID         *string          `json:"build_id"`
	BuildName       string           `json:"build_name"`
	TriggerKind     *string          `json:"trigger_kind"`
	TriggerMetadata *triggerMetadata `json:"trigger_metadata"`
	IsManual        *bool            `json:"is_manual"`
	ManualUser      *string          `json:"manual_user"`
	ImageID         *string          `json:"image_id"`
	ManifestDigests []string         `json:"manifest_digests"`
	ErrorMessage    *string          `json:"error_message"`

	// vulnerability_found
	Vulnerability   *struct{}   `json:"vulnerability"`
	Vulnerabilities *[]struct{} `json:"vulnerabilities"`
	Tags            []string    `json:"tags"`
}

// triggerMetadata is what a build trigger says of the commit it built.
type triggerMetadata struct {
	Ref        string `json:"ref"`
	Commit     string `json:"commit"`
	CommitSHA  string `json:"commit_sha"`
	CommitInfo *struct {
		Author *struct {
			Username string `json:"username"`
		} `json:"author"`
	} `json:"commit_info"`
}

// tagList is repo_push's updated_tags: a list of tag names, or, as older
// Quay versions sent it, an object from tag name to image id, whose names
// are taken in sorted order.
type tagList []string

// UnmarshalJSON reads a list of strings or an object of strings.
func (l *tagList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var m map[string]string
		if err := gojson.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("updated_tags: %w", err)
		}
		tags := make([]string, 0, len(m))
		for tag := range m {
			tags = append(tags, tag)
		}
		slices.Sort(tags)
		*l = tags
		return nil
	}
	var tags []string
	if err := gojson.Unmarshal(b, &tags); err != nil {
		return fmt.Errorf("updated_tags: %w", err)
	}
	*l = tags
	return nil
}
