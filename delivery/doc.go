// Package delivery carries deliveries from Reflex to the agents inside the
// secured network: the decision that an event delivers (Decider), jobs
// signed with Ed25519 on one queue per zone, at most one running per
// service, and the reports agents send back, which move the deployment
// record, the service and its release, and the provider's view of it (a
// StatusReporter per connector).
package delivery
