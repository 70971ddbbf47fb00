// Package redact keeps secrets out of everything the migrator prints: log lines, error
// messages and the Kubernetes termination message.
package redact

import (
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Mask replaces a secret.
const Mask = "xxxxx"

// Redactor scrubs registered secrets, and any password embedded in a URL or a key=value
// connection string, from text. It is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// minSecretLen keeps very short values (which would mask ordinary words) from being registered.
const minSecretLen = 3

// Add registers secrets to scrub, in their raw and URL-escaped forms.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		r.secrets = append(r.secrets, s)
		for _, esc := range []string{url.QueryEscape(s), url.PathEscape(s), url.UserPassword("u", s).String()[2:]} {
			if esc != s {
				r.secrets = append(r.secrets, esc)
			}
		}
	}
}

var (
	// Up to the last '@' of the URL: a password with a raw '@' or '/' is masked whole.
	urlPassword = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/@\s]*:)\S*@`) })
	kvPassword  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\b(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]+)`) })
)

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, secret := range r.secrets {
			s = strings.ReplaceAll(s, secret, Mask)
		}
		r.mu.RUnlock()
	}
	s = urlPassword().ReplaceAllString(s, "${1}"+Mask+"@")
	return kvPassword().ReplaceAllString(s, "${1}"+Mask)
}

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that scrubs messages, string values and errors.
func (r *Redactor) ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(r.String(a.Value.String()))
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(r.String(v.Error()))
		case interface{ String() string }:
			a.Value = slog.StringValue(r.String(v.String()))
		}
	}
	return a
}
