package cost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxWebhookText is the longest message Post sends, in characters:
// Mattermost refuses posts over 16383, Slack truncates at 40000.
const MaxWebhookText = 15000

// webhookTruncated ends a message cut to MaxWebhookText.
const webhookTruncated = "\n\n… (cut to fit a chat message: the HTML or JSON report has everything)"

// Post sends markdown to a Slack- or Mattermost-compatible incoming webhook
// as {"text": markdown}. The URL is a secret (whoever has it can post), so
// no error it returns contains it.
func Post(ctx context.Context, client *http.Client, webhookURL string, markdown []byte) error {
	u, err := url.Parse(strings.TrimSpace(webhookURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("webhook URL is not an http(s) URL")
	}
	body, err := json.Marshal(map[string]string{"text": truncateText(string(markdown), MaxWebhookText)})
	if err != nil {
		return fmt.Errorf("encoding webhook message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("posting to webhook: %s", redact(err.Error(), webhookURL, u))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		msg := strings.TrimSpace(redact(string(snippet), webhookURL, u))
		if msg != "" {
			msg = ": " + msg
		}
		return fmt.Errorf("webhook answered %s%s", resp.Status, msg)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

// redact removes the URL and its secret parts (path, query) from s.
func redact(s, raw string, u *url.URL) string {
	for _, secret := range []string{strings.TrimSpace(raw), u.String(), u.RequestURI(), u.EscapedPath(), u.RawQuery} {
		if secret != "" && secret != "/" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// truncateText cuts s to at most limit characters at a line break, and
// says so.
func truncateText(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	keep := limit - utf8.RuneCountInString(webhookTruncated)
	cut := 0
	for i := range s {
		if keep == 0 {
			cut = i
			break
		}
		keep--
	}
	if nl := strings.LastIndexByte(s[:cut], '\n'); nl > 0 {
		cut = nl
	}
	return s[:cut] + webhookTruncated
}
