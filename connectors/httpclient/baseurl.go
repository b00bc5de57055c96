package httpclient

import (
	"fmt"
	"net/url"
)

// ParseBaseURL checks a connection's base_url setting, to which a connector appends its API
// paths: an absolute http or https URL with a host, and no query, fragment or user
// information (credentials belong in the connection's secret fields, where they are sealed
// and masked). Errors show the URL redacted.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base_url %q must be an absolute http or https URL", RedactURL(raw))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("base_url %q must not have a query, a fragment or credentials", RedactURL(raw))
	}
	return u, nil
}
