package oauth

import "github.com/cozeauth/cozeauth/internal/sealed"

// A refresh whose answer is lost (a crash after the commit, a dropped
// connection) leaves the client with a rotated token; presenting it again
// would be reuse and revoke the family. So a rotation keeps its answer,
// sealed (package sealed) under the old refresh token, which the store never
// holds: only that token's holder can open it, within the retry window, and a
// leaked database row reveals nothing (issue 11.15).

const retryInfo = "cozeauth refresh retry v1"

// sealRetry seals resp for a retry with oldRefresh.
func sealRetry(oldRefresh string, resp tokenResponse) (string, error) {
	return sealed.Seal(oldRefresh, retryInfo, retryInfo, resp)
}

// openRetry opens what sealRetry made with the same oldRefresh.
func openRetry(oldRefresh, s string) (tokenResponse, error) {
	var resp tokenResponse
	err := sealed.Open(oldRefresh, retryInfo, retryInfo, s, &resp)
	return resp, err
}
