package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// apiClient talks to a running Reflex's /api/v1.
type apiClient struct {
	url    string
	apikey string
	http   *http.Client
}

// apiFlags registers --url and --apikey (REFLEX_URL, REFLEX_APIKEY) on a
// command and returns the client they configure.
func apiFlags(cmd *cobra.Command) *apiClient {
	c := &apiClient{http: &http.Client{Timeout: 30 * time.Second}}
	cmd.PersistentFlags().StringVar(&c.url, "url", "http://localhost:8080", "base URL of the Reflex server")
	cmd.PersistentFlags().StringVar(&c.apikey, "apikey", "", "API key (name.secret); prefer the REFLEX_APIKEY variable, which stays out of process listings")
	return c
}

// apiError is a failed API answer.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, http.StatusText(e.status), e.message)
}

// do sends a request and decodes a JSON answer into out (when not nil). It
// returns the response headers.
func (c *apiClient) do(ctx context.Context, method, path string, header http.Header, body []byte, out any) (http.Header, error) {
	resp, err := c.send(ctx, method, path, header, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(raw))
		}
		return resp.Header, &apiError{status: resp.StatusCode, message: e.Message}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.Header, fmt.Errorf("decode the answer: %w", err)
		}
	}
	return resp.Header, nil
}

func (c *apiClient) send(ctx context.Context, method, path string, header http.Header, body []byte) (*http.Response, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.url, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	key := c.apikey
	if key == "" {
		key = os.Getenv("REFLEX_APIKEY")
	}
	if key == "" {
		return nil, fmt.Errorf("no API key: set REFLEX_APIKEY (or --apikey) to name.secret")
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}
