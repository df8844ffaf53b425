package store

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// IDs are 19-digit numeric strings like Coze's (numeric, so every SDK's
// string fields take them), made the way such IDs are (snowflakes): the
// milliseconds since idEpoch shifted left 22 bits, then 10 bits of node and
// 12 of sequence. Ordered by creation time, new rows' IDs land at the end of
// the indexes on ID columns, where random IDs landed each on a page of its
// own, which a write transaction must write out in full; on SQLite, whose
// one writer commits every grant, that page writing is most of a token
// grant's cost.
//
// Uniqueness: within a process IDs strictly increase (the sequence counts up
// within a millisecond, from a random start, and spills into the next
// millisecond after 4095; a clock that steps back is waited out the same
// way). Processes sharing a database differ in their node, which the store
// hands each process that opens it (SetIDNode, from a counter in the
// database), until 1024 more opens have come between two running processes;
// even then two IDs collide only if made in the same millisecond at the same
// point of two random sequences.
const (
	// idEpoch is 2015-01-01T00:00:00Z: IDs have 19 digits from 2022 until
	// the milliseconds outgrow 41 bits in 2084.
	idEpoch   = 1_420_070_400_000
	nodeBits  = 10
	seqBits   = 12
	maxSeq    = 1<<seqBits - 1
	nodeShift = seqBits
	timeShift = nodeBits + seqBits
)

// idGen makes IDs; now is the clock in Unix milliseconds.
type idGen struct {
	mu     sync.Mutex
	now    func() int64
	node   int64
	lastMs int64 // milliseconds since idEpoch of the last ID
	seq    int64
}

func (g *idGen) next() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ms := g.now() - idEpoch; ms > g.lastMs {
		g.lastMs, g.seq = ms, rand.Int64N(maxSeq+1)
	} else if g.seq++; g.seq > maxSeq {
		g.lastMs, g.seq = g.lastMs+1, 0
	}
	return g.lastMs<<timeShift | g.node<<nodeShift | g.seq
}

func (g *idGen) setNode(n int64) {
	g.mu.Lock()
	g.node = n & (1<<nodeBits - 1)
	g.mu.Unlock()
}

var ids = &idGen{now: func() int64 { return time.Now().UnixMilli() }, node: rand.Int64N(1 << nodeBits)}

// NewID returns a new ID.
func NewID() string { return strconv.FormatInt(ids.next(), 10) }

// SetIDNode sets the node of the IDs this process makes to n (modulo 1024);
// until it is called the node is random.
func SetIDNode(n int64) { ids.setNode(n) }
