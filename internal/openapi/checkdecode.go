package openapi

import "github.com/cozeauth/cozeauth/internal/authz"

// decodeCheck decodes the common shape of a check request without
// reflection: one JSON object whose members are "permission", "bot_id" and
// "resource" (an object of "type" and "id"), each at most once, with string
// values of printable ASCII and no escapes. It reports false for anything
// else, which the caller then hands to encoding/json, so the fast path can
// only ever agree with json.Unmarshal (FuzzDecodeCheck holds it to that);
// it never reports an error of its own. A resource is decoded into res, and
// hasRes reports one: req.Resource stays nil, and the caller keeps its own
// pointer to res (one stored through req here would move res to the heap on
// every request).
func decodeCheck(body []byte, req *checkRequest, res *authz.ResourceRef) (ok, hasRes bool) {
	d := checkScanner{b: body}
	var seenPerm, seenBot bool
	ok = d.object(func(key []byte) bool {
		switch string(key) {
		case "permission":
			return d.strOnce(&seenPerm, &req.Permission)
		case "bot_id":
			return d.strOnce(&seenBot, &req.BotID)
		case "resource":
			if hasRes {
				return false
			}
			hasRes = true
			return d.resource(res)
		}
		return false
	})
	d.space()
	return ok && d.i == len(d.b), hasRes
}

// checkScanner walks body from i. Every method reports false when the input
// is outside the subset decodeCheck accepts.
type checkScanner struct {
	b []byte
	i int
}

func (d *checkScanner) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *checkScanner) byte(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// raw returns the bytes of a string of printable ASCII without escapes.
func (d *checkScanner) raw() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

// strOnce decodes a string member into dst; seen, the member's second
// occurrence is outside the subset.
func (d *checkScanner) strOnce(seen *bool, dst *string) bool {
	if *seen {
		return false
	}
	*seen = true
	s, ok := d.raw()
	if ok {
		*dst = string(s)
	}
	return ok
}

// object scans {"key": value, …}, calling member with each key once the
// scanner stands before its value.
func (d *checkScanner) object(member func(key []byte) bool) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.raw()
		if !ok || !d.byte(':') || !member(key) {
			return false
		}
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

func (d *checkScanner) resource(res *authz.ResourceRef) bool {
	var seenType, seenID bool
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return d.strOnce(&seenType, &res.Type)
		case "id":
			return d.strOnce(&seenID, &res.ID)
		}
		return false
	})
}
