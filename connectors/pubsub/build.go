package pubsub

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/convert"
	"github.com/reflexops/reflex/event"
)

// cloudBuild is the part of a Cloud Build Build resource the connector
// reads (https://cloud.google.com/build/docs/api/reference/rest/v1/projects.builds).
type cloudBuild struct {
	ID             string        `json:"id"`
	Status         string        `json:"status"`
	BuildTriggerID string        `json:"buildTriggerId"`
	Substitutions  substitutions `json:"substitutions"`
	LogURL         string        `json:"logUrl"`
	CreateTime     string        `json:"createTime"`
	StartTime      string        `json:"startTime"`
	FinishTime     string        `json:"finishTime"`
	Source         struct {
		RepoSource *repoSource `json:"repoSource"`
		GitSource  *gitSource  `json:"gitSource"`
	} `json:"source"`
	SourceProvenance struct {
		ResolvedRepoSource *repoSource `json:"resolvedRepoSource"`
		ResolvedGitSource  *gitSource  `json:"resolvedGitSource"`
	} `json:"sourceProvenance"`
	Results struct {
		Images []struct {
			Name   string `json:"name"`
			Digest string `json:"digest"`
		} `json:"images"`
	} `json:"results"`
}

// repoSource is a build's Cloud Source Repositories source.
type repoSource struct {
	RepoName   string `json:"repoName"`
	BranchName string `json:"branchName"`
	TagName    string `json:"tagName"`
	CommitSHA  string `json:"commitSha"`
}

// gitSource is a build's source fetched from a Git URL.
type gitSource struct {
	URL      string `json:"url"`
	Revision string `json:"revision"`
}

// substitutions are the default substitutions of a triggered build that
// name what it built
// (https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values).
type substitutions struct {
	RepoFullName string `json:"REPO_FULL_NAME"`
	RepoName     string `json:"REPO_NAME"`
	BranchName   string `json:"BRANCH_NAME"`
	TagName      string `json:"TAG_NAME"`
	CommitSHA    string `json:"COMMIT_SHA"`
	TriggerName  string `json:"TRIGGER_NAME"`
}

// normalizeBuild reads a Cloud Build status message: the data is the
// Build resource, whose status gives the kind (see buildProgress) and,
// in lower case, the action.
func normalizeBuild(attrs map[string]string, data []byte, ev *event.Event) error {
	var b cloudBuild
	if err := connectors.Decode(data, &b); err != nil {
		return fmt.Errorf("%w: the data of a Cloud Build message is not a Build resource: %v", connectors.ErrMalformed, err)
	}
	id := convert.First(b.ID, attrs[AttrBuildID])
	if b.ID != "" && b.ID != attrs[AttrBuildID] {
		return fmt.Errorf("%w: the Build resource's id differs from the message's buildId attribute", connectors.ErrMalformed)
	}
	if err := connectors.CheckDeliveryID("the build's id", id); err != nil {
		return err
	}
	status := convert.First(b.Status, attrs[AttrStatus])
	ev.Action = lowerWord(status)
	ev.Kind, ev.Build = buildProgress(status)
	ev.Build.ID = id
	ev.Build.Name = convert.First(b.Substitutions.TriggerName, b.BuildTriggerID)
	ev.Build.Trigger = b.BuildTriggerID
	ev.Build.URL = b.LogURL
	ev.Build.StartedAt = parseTime(b.StartTime)
	ev.Build.UpdatedAt = firstTime(b.FinishTime, b.StartTime, b.CreateTime)
	ev.URL = b.LogURL
	setSource(&b, ev)
	if ev.Build.Status == event.BuildFinished {
		ev.Artifact = builtImage(&b)
	}
	return nil
}

// buildProgress maps a build status to the kind and a Build with its
// status and outcome
// (https://cloud.google.com/build/docs/api/reference/rest/v1/projects.builds#Build.Status).
// STATUS_UNKNOWN, or a status Cloud Build adds later, is other.
func buildProgress(status string) (event.Kind, *event.Build) {
	switch status {
	case "PENDING", "QUEUED":
		return event.KindBuildQueued, &event.Build{Status: event.BuildQueued}
	case "WORKING":
		return event.KindBuildStarted, &event.Build{Status: event.BuildRunning}
	}
	outcome, ok := map[string]event.Outcome{
		"SUCCESS":        event.OutcomeSuccess,
		"FAILURE":        event.OutcomeFailure,
		"INTERNAL_ERROR": event.OutcomeFailure,
		"TIMEOUT":        event.OutcomeTimedOut,
		"CANCELLED":      event.OutcomeCancelled,
		"EXPIRED":        event.OutcomeCancelled,
	}[status]
	if !ok {
		return event.KindOther, &event.Build{}
	}
	return event.KindBuildFinished, &event.Build{Status: event.BuildFinished, Outcome: outcome}
}

// setSource sets the repository, branch or tag, and commit a build built:
// from a triggered build's substitutions, else from its source (a Cloud
// Source Repositories repository or a Git URL) and what it resolved to.
func setSource(b *cloudBuild, ev *event.Event) {
	subs := b.Substitutions
	var name, repoURL, branch, tag string
	commits := []string{subs.CommitSHA}
	for _, repo := range []*repoSource{b.Source.RepoSource, b.SourceProvenance.ResolvedRepoSource} {
		if repo != nil {
			name = convert.First(name, repo.RepoName)
			branch, tag = convert.First(branch, repo.BranchName), convert.First(tag, repo.TagName)
			commits = append(commits, repo.CommitSHA)
		}
	}
	for _, git := range []*gitSource{b.Source.GitSource, b.SourceProvenance.ResolvedGitSource} {
		if git != nil {
			if n, u := gitRepository(git.URL); n != "" && repoURL == "" {
				name, repoURL = convert.First(name, n), u
			}
			commits = append(commits, git.Revision)
		}
	}
	name = convert.First(subs.RepoFullName, subs.RepoName, name)
	if name != "" {
		ev.Repository = &event.Repository{Name: name, URL: repoURL}
	}
	branch = convert.First(subs.BranchName, branch)
	tag = convert.First(subs.TagName, tag)
	switch {
	case branch != "":
		ev.Branch, ev.Ref = branch, "refs/heads/"+branch
	case tag != "":
		ev.Tag, ev.Ref = tag, "refs/tags/"+tag
	}
	for _, c := range commits {
		if convert.IsSHA(c) {
			ev.Commit = c
			break
		}
	}
}

// gitRepository returns the repository name ("acme/widget") and web page
// of an https Git URL such as https://github.com/acme/widget.git.
func gitRepository(raw string) (name, page string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return "", ""
	}
	path := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	if path == "" {
		return "", ""
	}
	return path, "https://" + u.Host + "/" + path
}

// builtImage returns the first image a finished build pushed, with its
// digest; the Build resource stored as the payload lists them all.
func builtImage(b *cloudBuild) *event.Artifact {
	for _, img := range b.Results.Images {
		ref, err := parseReference(img.Name)
		if err != nil || !isDigest(img.Digest) || ref.digest != "" && ref.digest != img.Digest {
			continue
		}
		a := &event.Artifact{Type: "container", Repository: ref.repository, Tag: ref.tag, Digest: img.Digest}
		a.Reference = reference(a)
		return a
	}
	return nil
}

// parseTime reads one of the Build resource's RFC 3339 times; one it
// cannot read is left out.
func parseTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return convert.UTC(&t)
}

// firstTime returns the first of times that reads as a time.
func firstTime(times ...string) *time.Time {
	for _, s := range times {
		if t := parseTime(s); t != nil {
			return t
		}
	}
	return nil
}
