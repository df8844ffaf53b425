package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// sse writes server-sent events the way Coze does and the SDKs parse them,
// flushing each event as it is written:
//
//   - chat streams: "event:NAME\ndata:JSON\n\n" — coze-go reads the data line
//     right after the event line and cozepy accepts exactly these two fields,
//     so nothing else (no id:, no comments) may appear;
//   - workflow streams: "id: N\nevent: NAME\ndata: JSON\n\n" — coze-go reads
//     the event and data lines right after the id line.
type sse struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	s       *Sandbox
	withIDs bool
	next    int // the next workflow event id
	err     error
}

func (s *Sandbox) startSSE(w http.ResponseWriter, withIDs bool) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies in front must not buffer either
	w.WriteHeader(http.StatusOK)
	e := &sse{w: w, rc: http.NewResponseController(w), s: s, withIDs: withIDs}
	e.flush()
	return e
}

// event writes one event with v encoded as its data (a string is sent as it
// is) and flushes it. After a failure (the client went away) it does nothing
// and err reports why.
func (e *sse) event(name string, v any) {
	if e.err != nil {
		return
	}
	if e.s.beforeEvent != nil {
		if e.err = e.s.beforeEvent(name); e.err != nil {
			return
		}
	}
	var data []byte
	if str, ok := v.(string); ok {
		data = []byte(str)
	} else {
		b, err := marshal(v)
		if err != nil {
			e.err = fmt.Errorf("encoding the %s event: %w", name, err)
			return
		}
		data = b[:len(b)-1] // marshal ends with a newline
	}
	buf := make([]byte, 0, len(name)+len(data)+32)
	if e.withIDs {
		buf = append(buf, "id: "...)
		buf = strconv.AppendInt(buf, int64(e.next), 10)
		buf = append(buf, "\nevent: "...)
		buf = append(buf, name...)
		buf = append(buf, "\ndata: "...)
		e.next++
	} else {
		buf = append(buf, "event:"...)
		buf = append(buf, name...)
		buf = append(buf, "\ndata:"...)
	}
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	if _, err := e.w.Write(buf); err != nil {
		e.err = err
		return
	}
	e.flush()
}

func (e *sse) flush() {
	if e.err != nil {
		return
	}
	// A writer that cannot flush (http.ErrNotSupported) still gets every
	// byte, only later; that is not worth failing the stream for.
	if err := e.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		e.err = err
	}
}
