package acr

import (
	"fmt"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/imageref"
	"github.com/reflexops/reflex/event"
)

// payload is the part of a webhook event the connector reads.
type payload struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Target struct {
		MediaType  string `json:"mediaType"`
		Digest     string `json:"digest"`
		Repository string `json:"repository"`
		Tag        string `json:"tag"`
		// Name and Version are a Helm chart's (chart_push,
		// chart_delete).
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"target"`
	Request *struct {
		Host string `json:"host"`
	} `json:"request"`
	Actor *struct {
		Name string `json:"name"`
	} `json:"actor"`
}

// normalize fills ev by its action: a push is artifact.published, a
// chart_push too (a Helm chart); delete, chart_delete and quarantine are
// other, with what they concern; any other action is unnormalized.
func (c *Connector) normalize(p *payload, ev *event.Event) error {
	if p.Actor != nil {
		ev.Actor = p.Actor.Name
	}
	var err error
	switch p.Action {
	case ActionPush:
		ev.Kind = event.KindArtifactPublished
		if ev.Artifact, err = c.image(p, true); err == nil {
			ev.Tag = ev.Artifact.Tag
		}
	case ActionQuarantine:
		ev.Kind, ev.Action = event.KindOther, "quarantined"
		ev.Artifact, err = c.image(p, false)
	case ActionDelete:
		ev.Kind, ev.Action = event.KindOther, "deleted"
		ev.Artifact, err = c.image(p, false)
	case ActionChartPush:
		ev.Kind = event.KindArtifactPublished
		ev.Artifact, err = c.chart(p)
	case ActionChartDelete:
		ev.Kind, ev.Action = event.KindOther, "deleted"
		ev.Artifact, err = c.chart(p)
	default:
		ev.Kind = event.KindUnnormalized
	}
	return err
}

// image returns the container image an event concerns: the registry's
// host and the repository, and the tag or digest it names (a push names
// one or both; a delete of a repository may name neither).
func (c *Connector) image(p *payload, pushed bool) (*event.Artifact, error) {
	repo, err := c.repository(p)
	if err != nil {
		return nil, err
	}
	t := &p.Target
	if t.Tag != "" && !imageref.ValidTag(t.Tag) {
		return nil, fmt.Errorf("%w: the payload's target.tag is not a tag (letters, digits, '_', '.' and '-', at most 128)", connectors.ErrMalformed)
	}
	if t.Digest != "" && !imageref.ValidDigest(t.Digest) {
		return nil, fmt.Errorf("%w: the payload's target.digest is not a sha256 or sha512 digest", connectors.ErrMalformed)
	}
	if pushed && t.Tag == "" && t.Digest == "" {
		return nil, fmt.Errorf("%w: the push names neither a tag nor a digest (target.tag, target.digest)", connectors.ErrMalformed)
	}
	a := &event.Artifact{Type: "container", Repository: repo, Tag: t.Tag, Digest: t.Digest, DigestMissing: t.Digest == ""}
	switch {
	case t.Tag != "":
		a.Reference = repo + ":" + t.Tag
	case t.Digest != "":
		a.Reference = repo + "@" + t.Digest
	}
	return a, nil
}

// chart returns the Helm chart a chart event concerns: the registry's
// host, the chart repository and the chart's name, its version and
// digest. target.tag, the chart's file name ("wordpress-5.4.0.tgz"), is
// no registry tag and stays in the payload.
func (c *Connector) chart(p *payload) (*event.Artifact, error) {
	repo, err := c.repository(p)
	if err != nil {
		return nil, err
	}
	t := &p.Target
	if t.Name != "" {
		if !imageref.ValidComponent(t.Name) {
			return nil, fmt.Errorf("%w: the payload's target.name is not a chart name", connectors.ErrMalformed)
		}
		repo += "/" + t.Name
	}
	if t.Version != "" && !validVersion(t.Version) {
		return nil, fmt.Errorf("%w: the payload's target.version is not a chart version (letters, digits, '.', '_', '+' and '-', at most 128)", connectors.ErrMalformed)
	}
	if t.Digest != "" && !imageref.ValidDigest(t.Digest) {
		return nil, fmt.Errorf("%w: the payload's target.digest is not a sha256 or sha512 digest", connectors.ErrMalformed)
	}
	return &event.Artifact{Type: "helm", Repository: repo, Version: t.Version, Digest: t.Digest, DigestMissing: t.Digest == ""}, nil
}

// repository returns "<host>/<target.repository>": the host is
// request.host, the registry's login server, or, for the events whose
// payload has no request (chart events), settings.login_server.
func (c *Connector) repository(p *payload) (string, error) {
	repo := p.Target.Repository
	if repo == "" {
		return "", fmt.Errorf("%w: the payload's target.repository is missing", connectors.ErrMalformed)
	}
	for _, part := range strings.Split(repo, "/") {
		if !imageref.ValidComponent(part) {
			return "", fmt.Errorf("%w: the payload's target.repository is not a repository name (lower-case letters and digits, separated by '.', '_', '-' or '/')", connectors.ErrMalformed)
		}
	}
	host := c.loginServer
	if p.Request != nil && p.Request.Host != "" {
		host = p.Request.Host
	}
	switch {
	case host == "":
		return "", fmt.Errorf("%w: the %s event names no registry (request.host); set the source's settings.login_server, e.g. myregistry.azurecr.io", connectors.ErrMalformed, p.Action)
	case !imageref.ValidHost(host):
		return "", fmt.Errorf("%w: the payload's request.host is not a registry host name", connectors.ErrMalformed)
	}
	return strings.ToLower(host) + "/" + repo, nil
}
