package awsevents

import (
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors/convert"
	"github.com/reflexops/reflex/event"
)

// buildStates maps a CodeBuild build-status to its kind, build status and
// outcome. FAULT is a failure of CodeBuild's own rather than the build's,
// still a build that did not succeed.
var buildStates = map[string]struct {
	kind    event.Kind
	status  event.BuildStatus
	outcome event.Outcome
}{
	"IN_PROGRESS": {event.KindBuildStarted, event.BuildRunning, ""},
	"SUCCEEDED":   {event.KindBuildFinished, event.BuildFinished, event.OutcomeSuccess},
	"FAILED":      {event.KindBuildFinished, event.BuildFinished, event.OutcomeFailure},
	"FAULT":       {event.KindBuildFinished, event.BuildFinished, event.OutcomeFailure},
	"STOPPED":     {event.KindBuildFinished, event.BuildFinished, event.OutcomeCancelled},
	"TIMED_OUT":   {event.KindBuildFinished, event.BuildFinished, event.OutcomeTimedOut},
}

// startTimeLayout is how CodeBuild writes build-start-time.
const startTimeLayout = "Jan 2, 2006 3:04:05 PM"

// normalizeBuild reads a CodeBuild Build State Change.
func (e *Event) normalizeBuild(ev *event.Event) {
	d := &e.Detail
	state, known := buildStates[d.BuildStatus]
	ev.Kind = event.KindOther
	if known {
		ev.Kind = state.kind
	}
	ev.Action = word(d.BuildStatus)
	b := &event.Build{
		ID:        d.BuildID,
		Name:      d.ProjectName,
		Status:    state.status,
		Outcome:   state.outcome,
		UpdatedAt: e.eventTime(),
	}
	if b.ID == "" && len(e.Resources) == 1 && strings.Contains(e.Resources[0], ":build/") {
		b.ID = e.Resources[0]
	}
	if info := d.Info; info != nil {
		if n := info.BuildNumber; n >= 1 && n <= math.MaxInt32 && n == math.Trunc(n) {
			b.Number = int(n)
		}
		if t, err := time.Parse(startTimeLayout, info.StartTime); err == nil {
			b.StartedAt = convert.UTC(&t)
		}
		b.URL = httpsURL(info.Logs.DeepLink)
		ev.Actor = info.Initiator
		ev.Repository = sourceRepository(info.Source.Location, info.Source.Type)
		setSourceVersion(ev, info.SourceVersion)
	}
	ev.URL = b.URL
	ev.Build = b
}

// word returns a status in lower case, "" unless it is made of upper-case
// letters and '_' as AWS's statuses are.
func word(status string) string {
	if status == "" || len(status) > 32 || strings.ContainsFunc(status, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r == '_') }) {
		return ""
	}
	return strings.ToLower(status)
}

// setSourceVersion reads what a build built: a full commit SHA, a
// refs/heads/ or refs/tags/ ref, or "ref^{sha}" (CodeBuild's form for a
// ref at a commit). A branch name alone, a pull request ("pr/12") or an
// S3 object version names nothing the event model holds.
func setSourceVersion(ev *event.Event, v string) {
	ref := v
	if i := strings.Index(v, "^{"); i > 0 && strings.HasSuffix(v, "}") {
		ref = v[:i]
		if sha := v[i+2 : len(v)-1]; convert.IsSHA(sha) {
			ev.Commit = sha
		}
	} else if convert.IsSHA(v) {
		ev.Commit = v
		return
	}
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok && b != "" {
		ev.Branch = b
	} else if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok && t != "" {
		ev.Tag = t
	}
}

// codeCommitHost matches CodeCommit's Git endpoints.
var codeCommitHost = regexp.MustCompile(`^git-codecommit(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com(?:\.cn)?$`)

// sourceRepository returns the repository of a build's source location,
// nil for a source that is no Git host's repository (S3, CodePipeline,
// none). The user information a URL may carry is dropped.
func sourceRepository(location, typ string) *event.Repository {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil
	}
	host := strings.ToLower(u.Host)
	path := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	if m := codeCommitHost.FindStringSubmatch(host); m != nil {
		name, ok := strings.CutPrefix(path, "v1/repos/")
		if !ok || !isRepoPath(name, 1) {
			return nil
		}
		return &event.Repository{
			Name: name,
			URL:  "https://console.aws.amazon.com/codesuite/codecommit/repositories/" + name + "/browse?region=" + m[1],
		}
	}
	segments := 2
	switch {
	case host == "github.com", host == "bitbucket.org", typ == "GITHUB_ENTERPRISE":
	case host == "gitlab.com", typ == "GITLAB_SELF_MANAGED":
		segments = -1 // groups and subgroups
	default:
		return nil
	}
	if !isRepoPath(path, segments) {
		return nil
	}
	return &event.Repository{Name: path, URL: "https://" + host + "/" + path}
}

// isRepoPath reports whether path is n segments (at least two when n is
// -1) of the characters Git hosts allow in owner and repository names.
func isRepoPath(path string, n int) bool {
	parts := strings.Split(path, "/")
	if n > 0 && len(parts) != n || n < 0 && len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || len(p) > 100 || strings.ContainsFunc(p, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
		}) {
			return false
		}
	}
	return true
}

// httpsURL returns u when it is an https URL, else "".
func httpsURL(u string) string {
	if strings.HasPrefix(u, "https://") && len(u) <= 2048 {
		return u
	}
	return ""
}
