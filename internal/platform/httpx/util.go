package httpx

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// ConstantTimeEqual compares two secrets without leaking their length
// through timing beyond the comparison itself.
func ConstantTimeEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// ClientIP is the remote address of the request. Forwarded headers are not
// trusted: a deployment behind a proxy should set the proxy to overwrite
// X-Real-IP and enable TrustProxy in a later release.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return strings.TrimSpace(r.RemoteAddr)
	}
	return host
}
