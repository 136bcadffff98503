package sns_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/reflexops/reflex/connectors/sns"
)

// TestFixtureSignatures: every fixture carries the test key's signature
// of its message, so the kit can send it as recorded (Presigned).
// UPDATE_SNS_FIXTURES=1 go test ./connectors/sns -run TestFixtureSignatures
// signs them again after an edit (then run the tests once more: the
// fixtures are compiled in).
func TestFixtureSignatures(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(self), "..", "..", "fixtures", sns.Name)
	update := os.Getenv("UPDATE_SNS_FIXTURES") != ""
	for _, f := range kit.Fixtures(t) {
		path := filepath.Join(dir, f.Name+".json")
		body := f.Body
		if update {
			// Read what is on disk: the embedded copy is as compiled.
			var err error
			if body, err = os.ReadFile(path); err != nil {
				t.Fatal(err)
			}
		}
		out, err := sns.Resign(body, testKey)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		switch {
		case update:
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
		case !bytes.Equal(out, body):
			t.Errorf("%s is not signed by the test key as it stands; run UPDATE_SNS_FIXTURES=1 go test ./connectors/sns -run TestFixtureSignatures", path)
		}
	}
}
