// Package schemes holds the ways providers prove a webhook genuine, shared
// by the connectors that use them: a static token or Basic credentials
// compared in constant time, an HMAC of the body in a header, and the
// Standard Webhooks signature (HMAC-SHA256 "v1" and Ed25519 "v1a", over
// the message id, a timestamp and the body).
//
// Every function here compares in constant time, never accepts an empty
// secret, and returns errors that wrap connectors.ErrUnauthorized and
// never hold a secret or a signature.
package schemes
