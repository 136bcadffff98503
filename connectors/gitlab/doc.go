// Package gitlab is the connector for GitLab.com and self-managed GitLab
// project, group and system webhooks, GitLab CI's pipeline and job events
// included.
//
// It implements the delivery contract documented at
// https://docs.gitlab.com/user/project/integrations/webhooks/ and the
// payloads of https://docs.gitlab.com/user/project/integrations/webhook_events/:
//
//   - Authentication: the webhook's secret token, sent verbatim in
//     X-Gitlab-Token and compared in constant time; or a signing token
//     ("whsec_…", https://gitlab.com/gitlab-org/gitlab/-/merge_requests/230944),
//     with which GitLab signs the delivery the Standard Webhooks way
//     (https://www.standardwebhooks.com/): webhook-id, webhook-timestamp and
//     webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>". A
//     delivery that carries webhook-signature must verify by it, whatever
//     its token; one without is judged by its token, unless the source's
//     require_signature setting refuses it. A source secret starting with
//     "whsec_" is a signing token, any other a secret token.
//   - Event type: X-Gitlab-Event ("Push Hook", "Job Hook", …) becomes
//     Event.Type as the matching object_kind: the header's words in lower
//     case joined by '_' without "Hook" ("push", "tag_push",
//     "merge_request", "pipeline", "deployment", "system"), except that
//     "Job Hook" is "build" and "Resource Access Token Hook" is
//     "access_token", as GitLab's own object_kind names them.
//   - Delivery id: for a delivery carrying webhook-signature, the
//     webhook-id the signature covers, which GitLab sets to the
//     Idempotency-Key (an Idempotency-Key that differs is refused, so a
//     captured delivery cannot be replayed as a new event under a new
//     key); else Idempotency-Key (GitLab 17.4+, kept by retries and manual
//     resends), else X-Gitlab-Event-UUID, else a hash of the body.
//   - Normalization: pushes, tag pushes, merge requests, releases,
//     pipelines, jobs and deployments, and the pushes and merge requests a
//     System Hook relays, onto the kinds GitHub's counterparts take. A
//     pipeline's, job's or deployment's status is its Action; a
//     deployment's Deployment.State is its status in GitHub's words
//     (created queued, running in_progress, success, failed failure,
//     canceled inactive). A pipeline without a workflow:name is
//     Build.Name "pipeline", and so is the Build.Pipeline of its jobs.
//     GitLab's times ("2026-01-02 03:04:05 UTC", RFC 3339) are read in
//     either form; one in no form it reads is left out, never refused.
package gitlab
