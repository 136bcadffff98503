package awsevents

import (
	"regexp"
	"strings"

	"github.com/reflexops/reflex/event"
)

// Shapes of the values an ECR event names its image by; a value of
// another shape is left out of the artifact rather than trusted.
var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	region    = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-[0-9]+$`)
	// ECR's repository names: lower-case components separated by '/',
	// each of letters and digits joined by '.', '_' or '-'.
	repositoryName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	imageTag       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	imageDigest    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// maxRepositoryName is ECR's limit on a repository name.
const maxRepositoryName = 256

// normalizeImageAction reads an ECR Image Action: a successful push is
// artifact.published; a deletion, and any failed action, is other.
func (e *Event) normalizeImageAction(ev *event.Event) {
	d := &e.Detail
	ev.Artifact = e.image(d.ImageTag)
	ev.Kind = event.KindOther
	action := word(d.ActionType)
	switch {
	case d.Result == "SUCCESS" && d.ActionType == "PUSH":
		ev.Kind, ev.Action = event.KindArtifactPublished, "pushed"
	case d.Result == "SUCCESS" && d.ActionType == "DELETE":
		ev.Action = "deleted"
	case d.Result == "FAILURE" && action != "":
		ev.Action = action + "-failed"
	default:
		ev.Action = action
	}
}

// normalizeImageScan reads an ECR Image Scan: other, "scanned" or
// "scan-failed", with the image.
func (e *Event) normalizeImageScan(ev *event.Event) {
	d := &e.Detail
	tag := ""
	if len(d.ImageTags) > 0 {
		tag = d.ImageTags[0]
	}
	ev.Artifact = e.image(tag)
	ev.Kind = event.KindOther
	switch d.ScanStatus {
	case "COMPLETE":
		ev.Action = "scanned"
	case "FAILED":
		ev.Action = "scan-failed"
	default:
		ev.Action = word(d.ScanStatus)
	}
}

// image returns the image an ECR event concerns, in the registry of the
// event's account and region. A tag or digest of another shape than
// ECR's is left out; a push that names no digest says so.
func (e *Event) image(tag string) *event.Artifact {
	d := &e.Detail
	a := &event.Artifact{Type: "container", Repository: e.repository()}
	if imageTag.MatchString(tag) {
		a.Tag = tag
	}
	if imageDigest.MatchString(d.ImageDigest) {
		a.Digest = d.ImageDigest
	} else {
		a.DigestMissing = true
	}
	switch {
	case a.Repository == "":
	case a.Digest != "":
		a.Reference = a.Repository + "@" + a.Digest
	case a.Tag != "":
		a.Reference = a.Repository + ":" + a.Tag
	}
	return a
}

// repository returns the full name of the event's ECR repository,
// "<account>.dkr.ecr.<region>.amazonaws.com/<name>" (".com.cn" in the
// China regions), or the bare name when the account or region is not of
// AWS's shape, and "" when the name is not of ECR's.
func (e *Event) repository() string {
	name := e.Detail.RepositoryName
	if len(name) > maxRepositoryName || !repositoryName.MatchString(name) {
		return ""
	}
	if !accountID.MatchString(e.Account) || !region.MatchString(e.Region) {
		return name
	}
	domain := ".amazonaws.com"
	if strings.HasPrefix(e.Region, "cn-") {
		domain = ".amazonaws.com.cn"
	}
	return e.Account + ".dkr.ecr." + e.Region + domain + "/" + name
}
