// Package policies decides what may be received, stored, read, changed or
// delivered: attribute-based policies written as CEL expressions, matched to
// events and objects by scopes.
package policies
