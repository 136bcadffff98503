package connectors

import "fmt"

// CheckHeader checks a header a connector keeps, such as an event type or
// a delivery id: it must be present, at most max bytes long, and made of
// characters allowed accepts (by position, for a first character that
// differs); alphabet describes them in the error. Such values end up in
// storage keys, URLs and CloudEvents attributes, so none is taken as sent.
// Errors wrap ErrMalformed.
func CheckHeader(name, value string, max int, allowed func(i int, r rune) bool, alphabet string) error {
	if value == "" {
		return fmt.Errorf("%w: the %s header is missing", ErrMalformed, name)
	}
	if len(value) > max {
		return fmt.Errorf("%w: the %s header is longer than %d characters", ErrMalformed, name, max)
	}
	for i, r := range value {
		if !allowed(i, r) {
			return fmt.Errorf("%w: the %s header may hold only %s", ErrMalformed, name, alphabet)
		}
	}
	return nil
}
