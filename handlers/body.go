package handlers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
)

// DefaultMaxBody is the default request body limit: GitHub's own cap on a
// webhook payload.
const DefaultMaxBody = 25 << 20

// readBody reads at most limit bytes of a request body. A body declared
// larger is refused before a byte is read; one that turns out larger is
// refused as soon as the limit is passed, without reading the rest.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1)
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, tooLarge(limit)
		}
		return nil, Errorf(http.StatusBadRequest, "the request body could not be read: %v", err)
	}
	if int64(buf.Len()) > limit {
		return nil, tooLarge(limit)
	}
	return buf.Bytes(), nil
}

func tooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "the request body is larger than the limit of %d bytes (--max-body)", limit)
}
