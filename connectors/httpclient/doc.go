// Package httpclient is the outbound HTTP client that every HTTP-based connector shares.
//
// It fixes the conventions of Hookflow's outgoing calls in one place:
//
//   - one keep-alive connection pool per Client, so connectors should share a Client
//     (typically one per connector package) rather than build one per call;
//   - redirects are never followed: a 3xx comes back as a Response and Classify counts it
//     as a permanent failure, because a redirected POST silently changes meaning;
//   - a total timeout per request (body read included) and a cap on the response body;
//   - a User-Agent naming Hookflow and its version;
//   - Classify turns a status into the SDK's error kinds: 2xx is success, 408, 429 and 5xx
//     are retryable (with the Retry-After the server sent), other 4xx and 3xx permanent;
//   - every connection is opened through the outbound network policy (Policy) that the
//     call's context carries (connectors.WithDialer), or a default refusing link-local
//     and cloud metadata addresses; a refused address is a permanent *RefusedError;
//   - requests are logged at debug level and errors are written only in redacted form:
//     secret-looking query values, URL passwords, credential headers and the connection's
//     secret values are replaced with connectors.RedactedValue.
//
// A connector typically does:
//
//	resp, err := client.ForCall(call).Do(ctx, req)
//	if err != nil {
//		return nil, fmt.Errorf("create thing for step %s: %w", call.StepID, err) // retryable
//	}
//	if err := httpclient.Classify(resp); err != nil {
//		return nil, fmt.Errorf("create thing for step %s: %w", call.StepID, err)
//	}
//
// The package imports only the standard library and the connectors SDK.
package httpclient
