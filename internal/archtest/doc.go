// Package archtest holds tests of the module's structure: which package
// may import which. It has no code of its own.
package archtest
