package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Lang is a page language: "en" or "zh-CN" (the catalog's description keys).
type Lang string

const (
	En   Lang = "en"
	ZhCN Lang = "zh-CN"
)

const langCookie = "cozeauth_lang"

// parseLang maps a ?lang= or cookie value to a supported language.
func parseLang(s string) (Lang, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "en", "en-us", "en-gb":
		return En, true
	case "zh-cn", "zh", "zh-hans", "zh-hans-cn":
		return ZhCN, true
	}
	return "", false
}

// acceptLanguage picks the supported language the browser prefers most
// (RFC 9110 §12.5.4); any Chinese tag maps to Simplified Chinese, the only
// Chinese offered.
func acceptLanguage(header string) Lang {
	type pref struct {
		lang Lang
		q    float64
		pos  int
	}
	var prefs []pref
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		tag = strings.ToLower(tag)
		switch {
		case q <= 0:
		case tag == "zh" || strings.HasPrefix(tag, "zh-"):
			prefs = append(prefs, pref{ZhCN, q, i})
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			prefs = append(prefs, pref{En, q, i})
		}
	}
	if len(prefs) == 0 {
		return En
	}
	sort.SliceStable(prefs, func(a, b int) bool { return prefs[a].q > prefs[b].q })
	return prefs[0].lang
}

// langOf chooses the page language: ?lang=, then the cookie, then
// Accept-Language. A valid ?lang= is remembered in the cookie.
func (h *Handler) langOf(w http.ResponseWriter, r *http.Request) Lang {
	if l, ok := parseLang(r.URL.Query().Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: h.Secure, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := parseLang(c.Value); ok {
			return l
		}
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// T returns the message key in l, formatted with args when there are any.
// An unknown key returns the key itself; TestCatalogComplete and New's
// template check keep that from happening.
func (l Lang) T(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[0]
	if l == ZhCN {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// other is the language the switch link offers.
func (l Lang) other() Lang {
	if l == ZhCN {
		return En
	}
	return ZhCN
}

// withLang returns the local URL path?query with lang set to l.
func withLang(pathQuery string, l Lang) string {
	u, err := url.Parse(pathQuery)
	if err != nil {
		return "?lang=" + string(l)
	}
	q := u.Query()
	q.Set("lang", string(l))
	return u.EscapedPath() + "?" + q.Encode()
}
