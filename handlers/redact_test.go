package handlers

import "testing"

func TestRedactPath(t *testing.T) {
	for in, want := range map[string]string{
		"/hooks/acme":              "/hooks/acme",
		"/hooks/acme/s3cret":       "/hooks/acme/[redacted]",
		"/hooks/acme/s3cret/more":  "/hooks/acme/[redacted]",
		"//hooks/acme/s3cret":      "/hooks/acme/[redacted]",
		"/Hooks/acme/s3cret":       "/Hooks/acme/[redacted]",
		"/hooks//acme/s3cret":      "/hooks/acme/[redacted]",
		"/api/v1/events/hooks/x/y": "/api/v1/events/hooks/x/y",
		"/api/v1/source/acme-hub":  "/api/v1/source/acme-hub",
		"/hooksx/acme/s3cret":      "/hooksx/acme/s3cret",
		"/":                        "/",
	} {
		if got := redactPath(in); got != want {
			t.Errorf("redactPath(%q) = %q, want %q", in, got, want)
		}
	}
}
