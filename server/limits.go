package server

import "time"

// HTTP server limits. Providers expect an answer within 10 s (GitHub) and
// the intake answers as soon as the job is queued, so these are generous
// for uploads on slow links yet bound what a slow or idle client can hold.
const (
	// readHeaderTimeout bounds the time to send the request headers.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds the time to send the whole request, body
	// included (a 25 MiB body at 4 Mbit/s takes about 50 s).
	readTimeout = 60 * time.Second
	// writeTimeout bounds the time from the end of the headers to the end
	// of the response.
	writeTimeout = 90 * time.Second
	// idleTimeout closes idle keep-alive connections.
	idleTimeout = 120 * time.Second
	// maxHeaderBytes bounds the request headers.
	maxHeaderBytes = 64 << 10
)
