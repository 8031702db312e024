package interop

import (
	"container/list"
	"sync"
	"time"
)

// cache keeps OK answers of GET services for their TTL, least recently
// used first out when it holds more than max bytes.
type cache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	items map[string]*list.Element // of *cacheEntry
	lru   list.List                // front: most recently used
	now   func() time.Time
}

type cacheEntry struct {
	key     string
	status  int
	body    []byte
	id      string // CorrelationID of the call that fetched it
	expires time.Time
	size    int64
}

// entryOverhead approximates the bookkeeping of one entry, so that many
// tiny answers are bounded too.
const entryOverhead = 128

func newCache(max int64, now func() time.Time) *cache {
	return &cache{max: max, items: map[string]*list.Element{}, now: now}
}

func (c *cache) get(key string) (Response, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return Response{}, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.remove(el)
		return Response{}, false
	}
	c.lru.MoveToFront(el)
	return Response{Outcome: OK, Status: e.status, Body: e.body, CorrelationID: e.id, Cached: true}, true
}

func (c *cache) put(key string, r Response, ttl time.Duration) {
	e := &cacheEntry{
		key: key, status: r.Status, body: r.Body, id: r.CorrelationID,
		expires: c.now().Add(ttl),
		size:    int64(len(key)+len(r.Body)+len(r.CorrelationID)) + entryOverhead,
	}
	if e.size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	c.items[key] = c.lru.PushFront(e)
	c.size += e.size
	for c.size > c.max {
		c.remove(c.lru.Back())
	}
}

func (c *cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.items, e.key)
	c.size -= e.size
}
