package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	var r Redactor
	r.Add("s3cr3t/p@ss", "ab")
	tests := []struct{ name, in, want string }{
		{"registered_raw", "auth failed for s3cr3t/p@ss", "auth failed for xxxxx"},
		{"registered_escaped", "postgres://u:s3cr3t%2Fp%40ss@h/db", "postgres://u:xxxxx@h/db"},
		{"unregistered_url_password", "cannot parse postgres://app:hunter22@db:5432/x", "cannot parse postgres://app:xxxxx@db:5432/x"},
		{"postgresql_scheme", "postgresql://app:pw1234@db/x", "postgresql://app:xxxxx@db/x"},
		{"keyword_password", "host=db password=hunter22 user=app", "host=db password=xxxxx user=app"},
		{"quoted_keyword_password", "host=db password='a b c' user=app", "host=db password=xxxxx user=app"},
		{"short_secret_not_registered", "about cabs", "about cabs"},
		{"url_without_password_untouched", "postgres://app@db/x", "postgres://app@db/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestReplaceAttrScrubsLogs(t *testing.T) {
	var r Redactor
	r.Add("topsecret")
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: r.ReplaceAttr}))
	log.Info("connecting with topsecret", "url", "postgres://u:topsecret@h/d", "error", errors.New("bad topsecret"),
		slog.Group("g", "pw", "topsecret"))
	if strings.Contains(buf.String(), "topsecret") {
		t.Fatalf("secret leaked into log: %s", buf.String())
	}
	if !strings.Contains(buf.String(), Mask) {
		t.Fatalf("nothing masked: %s", buf.String())
	}
}
