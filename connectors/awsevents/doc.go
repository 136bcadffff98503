// Package awsevents normalizes the Amazon EventBridge events that AWS
// build and registry services emit, for the connectors that carry them:
// eventbridge (an API destination posts the event itself) and sns (an SNS
// topic, the rule's target, wraps it in a notification's Message).
//
// An event is the EventBridge envelope (version, id, detail-type, source,
// account, time, region, resources, detail), documented at
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html.
// Event.Type is the detail-type exactly as AWS writes it, e.g.
// "CodeBuild Build State Change": it names the event uniquely, and
// EventBridge rules match on it, so an operator reads the same words in
// a rule and in Reflex. A detail-type with characters other than
// letters, digits, spaces and - _ . : / ( ) is refused, as is one longer
// than 128 characters.
//
// Normalized detail-types:
//
//   - "CodeBuild Build State Change"
//     (https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications.html):
//     build-status IN_PROGRESS is build.started; SUCCEEDED, FAILED, FAULT,
//     STOPPED and TIMED_OUT are build.finished with the outcome success,
//     failure, failure, cancelled and timed_out (FAULT and TIMED_OUT are
//     UNCONFIRMED: the rule pattern AWS documents lists the first four
//     only, the build API knows all six). Build.ID is the build ARN,
//     Name the project, Number the build-number, URL the CloudWatch Logs
//     deep-link the event carries (the event names no console page),
//     StartedAt the build-start-time (written "Sep 1, 2017 4:12:29 PM",
//     read as UTC: UNCONFIRMED), UpdatedAt the envelope's time. The
//     initiator is the Actor. source.location gives the Repository when
//     it is a GitHub, GitHub Enterprise, GitLab, Bitbucket or CodeCommit
//     URL (never with the user information a URL may carry); source-version
//     (UNCONFIRMED: absent from AWS's sample, present in real events) gives
//     Commit when it is a full SHA, Branch for refs/heads/…, Tag for
//     refs/tags/…, both for "ref^{sha}". Another status is other.
//   - "ECR Image Action"
//     (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html):
//     a PUSH with result SUCCESS is artifact.published; a DELETE is other
//     with Action "deleted"; a FAILURE is other with Action "push-failed"
//     or "delete-failed". The artifact is a container image in
//     "<account>.dkr.ecr.<region>.amazonaws.com/<repository-name>"
//     (amazonaws.com.cn in the China regions), with image-tag (absent for
//     an untagged push) and image-digest; Reference is repository@digest
//     when the digest is known (a tag can move), else repository:tag.
//   - "ECR Image Scan": other with Action "scanned" (scan-status
//     COMPLETE) or "scan-failed", with the artifact fields (Tag the first
//     of image-tags). The finding counts stay in the payload.
//
// Any other detail-type (CodeBuild Build Phase Change, ECR Scan Resource
// Change, any service's or any application's events) is unnormalized,
// whatever its detail holds; a normalized one whose detail has another
// shape is refused as malformed.
package awsevents
