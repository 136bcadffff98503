package pubsub

import "testing"

func TestParseReference(t *testing.T) {
	const digest = "sha256:4e2d8f1a6b3c9e7d5f2a8c4b1e6d9f3a7c5b2e8d4f1a6c9b3e7d5a2f8c4b1e6d"
	tests := []struct {
		in   string
		want imageRef
		ok   bool
	}{
		{"us-docker.pkg.dev/p/r/img:1.2.0", imageRef{repository: "us-docker.pkg.dev/p/r/img", tag: "1.2.0"}, true},
		{"us-docker.pkg.dev/p/r/img@" + digest, imageRef{repository: "us-docker.pkg.dev/p/r/img", digest: digest}, true},
		{"us-docker.pkg.dev/p/r/img:1.2.0@" + digest, imageRef{repository: "us-docker.pkg.dev/p/r/img", tag: "1.2.0", digest: digest}, true},
		{"gcr.io/acme-prod/legacy-api", imageRef{repository: "gcr.io/acme-prod/legacy-api"}, true},
		{"localhost:5000/team/app:v1", imageRef{repository: "localhost:5000/team/app", tag: "v1"}, true},
		{"registry.example.com:443/a__b/c.d-e:x_Y.1-2", imageRef{repository: "registry.example.com:443/a__b/c.d-e", tag: "x_Y.1-2"}, true},
		{"img:1.0", imageRef{}, false},                      // no host
		{"docker/img:1.0", imageRef{}, false},               // a host needs a dot
		{"us-docker.pkg.dev/p/r/Img:1", imageRef{}, false},  // upper case in the path
		{"us-docker.pkg.dev/p/r/img:", imageRef{}, false},   // empty tag
		{"us-docker.pkg.dev/p/r/img:-x", imageRef{}, false}, // tag starting with '-'
		{"us-docker.pkg.dev/p/r/img@sha256:abc", imageRef{}, false},
		{"us-docker.pkg.dev/p/r/img@md5:" + digest[7:], imageRef{}, false},
		{"us-docker.pkg.dev/p//img:1", imageRef{}, false},
		{"us-docker.pkg.dev/p/r/img/:1", imageRef{}, false},
		{"us-docker.pkg.dev:/p/img", imageRef{}, false},
		{"-bad.example.com/p/img", imageRef{}, false},
		{"us-docker.pkg.dev/p/r/img:1 2", imageRef{}, false},
		{"", imageRef{}, false},
	}
	for _, tt := range tests {
		got, err := parseReference(tt.in)
		if (err == nil) != tt.ok || tt.ok && got != tt.want {
			t.Errorf("parseReference(%q) = %+v, %v; want %+v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
