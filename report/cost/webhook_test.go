package cost

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chatServer stands in for a Slack or Mattermost incoming webhook.
type chatServer struct {
	*httptest.Server
	status      int
	reply       string
	got         []string
	contentType string
}

func newChatServer(t *testing.T, status int, reply string) *chatServer {
	cs := &chatServer{status: status, reply: reply}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "want POST", http.StatusMethodNotAllowed)
			return
		}
		cs.contentType = r.Header.Get("Content-Type")
		var msg struct {
			Text string `json:"text"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		cs.got = append(cs.got, msg.Text)
		w.WriteHeader(cs.status)
		io.WriteString(w, strings.ReplaceAll(cs.reply, "PATH", r.URL.Path))
	}))
	t.Cleanup(cs.Close)
	return cs
}

const secretPath = "/services/T000/B000/XXXXsecretXXXX"

func TestPostSendsTheMarkdown(t *testing.T) {
	cs := newChatServer(t, http.StatusOK, "ok")
	var md strings.Builder
	require.NoError(t, WriteMarkdown(&md, demoReport(t)))
	require.NoError(t, Post(context.Background(), cs.Client(), cs.URL+secretPath, []byte(md.String())))
	require.Len(t, cs.got, 1)
	assert.Equal(t, md.String(), cs.got[0])
	assert.Equal(t, "application/json", cs.contentType)
}

func TestPostErrorsNeverShowTheURL(t *testing.T) {
	failing := newChatServer(t, http.StatusForbidden, "no such hook: PATH")
	closed := newChatServer(t, http.StatusOK, "")
	closedURL := closed.URL + secretPath
	closed.Close()
	cases := []struct {
		name, url, want string
	}{
		{"refused", failing.URL + secretPath, "webhook answered 403 Forbidden: no such hook: [redacted]"},
		{"unreachable", closedURL, "posting to webhook:"},
		{"not a URL", "hooks.example.com" + secretPath, "webhook URL is not an http(s) URL"},
		{"bad scheme", "ftp://example.com" + secretPath, "webhook URL is not an http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Post(context.Background(), http.DefaultClient, tc.url, []byte("hi"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "secret")
			assert.NotContains(t, err.Error(), tc.url)
		})
	}
}

func TestPostCutsLongMessages(t *testing.T) {
	cs := newChatServer(t, http.StatusOK, "ok")
	line := strings.Repeat("é", 99) + "\n" // multi-byte on purpose
	long := strings.Repeat(line, 400)      // 40000 characters
	require.NoError(t, Post(context.Background(), cs.Client(), cs.URL, []byte(long)))
	require.Len(t, cs.got, 1)
	got := cs.got[0]
	assert.LessOrEqual(t, utf8.RuneCountInString(got), MaxWebhookText)
	assert.True(t, utf8.ValidString(got))
	assert.True(t, strings.HasSuffix(got, webhookTruncated))
	assert.True(t, strings.HasPrefix(long, strings.TrimSuffix(got, webhookTruncated)+"\n"), "cut at a line break")

	short := "short\n"
	assert.Equal(t, short, truncateText(short, MaxWebhookText))
}
