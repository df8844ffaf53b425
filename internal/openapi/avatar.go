package openapi

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
)

// AvatarPath is where generated default avatars are served: AvatarPath +
// "{seed}.svg". Coze's sample pages render /v1/users/me's avatar_url, so a
// user without one gets a generated picture instead of an empty string.
const AvatarPath = "/avatars/"

// defaultAvatar is the generated avatar URL for seed (a user or credential
// ID) under the server's public URL.
func (a *API) defaultAvatar(seed string) string {
	return strings.TrimSuffix(a.PublicURL, "/") + AvatarPath + seed + ".svg"
}

// Avatar serves GET /avatars/{file}: a circle in a colour and a pattern drawn
// from the SHA-256 of the seed in the file name. It is a pure function of the
// path: it reads no store and says nothing about whether the seed is a user.
func Avatar(w http.ResponseWriter, r *http.Request) {
	seed, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok || seed == "" || len(seed) > 64 {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256([]byte(seed))
	hue := int(sum[0])<<8 | int(sum[1])
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 5 5" width="96" height="96">`+
		`<circle cx="2.5" cy="2.5" r="2.5" fill="hsl(%d,45%%,92%%)"/>`, hue%360)
	// A 5×5 grid mirrored left to right (the identicon pattern), inside a
	// circle: 15 bits of the hash pick the cells of the left three columns.
	b.WriteString(`<clipPath id="c"><circle cx="2.5" cy="2.5" r="2.5"/></clipPath><g clip-path="url(#c)">`)
	for i := 0; i < 15; i++ {
		if sum[2+i/8]>>(i%8)&1 == 0 {
			continue
		}
		x, y := i/5, i%5
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="1" height="1" fill="hsl(%d,55%%,45%%)"/>`, x, y, hue%360)
		if x != 2 {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="1" height="1" fill="hsl(%d,55%%,45%%)"/>`, 4-x, y, hue%360)
		}
	}
	b.WriteString(`</g></svg>`)
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write([]byte(b.String()))
}
