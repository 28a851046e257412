package main

import (
	"net/rpc"
	"sync"
	"time"
)

// pairWait is how long the ids-swapped fault waits, before answering request k (k even), for
// request k+1 of the connection to arrive, so that a client that writes its requests ahead
// (pipelining) gets its answers' ids swapped whatever the scheduling; a client that waits for
// each answer gets it that much later, with its own id.
const pairWait = 200 * time.Millisecond

// faultyCodec wraps jsonrpc's server codec with the JSON-RPC faults of the process:
// unknown-method-ok serves every method name as Panda.Getinfo; ids-swapped gives the answer to
// request k of the connection (0-based, in the order read) the id of request k^1, when both
// requests of the pair were read before the pair's first answer is written.
func faultyCodec(inner rpc.ServerCodec) rpc.ServerCodec {
	return &codec{ServerCodec: inner, index: map[uint64]int{}, read: map[int]chan struct{}{}, swapped: map[int]bool{}}
}

type codec struct {
	rpc.ServerCodec
	mu      sync.Mutex
	n       int                   // requests read so far
	index   map[uint64]int        // the inner codec's seq of each request read -> its index
	seqs    []uint64              // index -> seq
	read    map[int]chan struct{} // index -> closed once that request was read
	swapped map[int]bool          // pair (index/2) -> whether its answers swap ids, once decided
}

func (c *codec) ReadRequestHeader(r *rpc.Request) error {
	if err := c.ServerCodec.ReadRequestHeader(r); err != nil {
		return err
	}
	if faults[faultUnknownMethodOK] && r.ServiceMethod != "Panda.Getinfo" {
		r.ServiceMethod = "Panda.Getinfo"
	}
	c.mu.Lock()
	k := c.n
	c.n++
	c.index[r.Seq] = k
	c.seqs = append(c.seqs, r.Seq)
	ch := c.readChan(k)
	c.mu.Unlock()
	close(ch)
	return nil
}

// readChan is the channel closed once request k was read; c.mu held.
func (c *codec) readChan(k int) chan struct{} {
	ch, ok := c.read[k]
	if !ok {
		ch = make(chan struct{})
		c.read[k] = ch
	}
	return ch
}

func (c *codec) WriteResponse(r *rpc.Response, body any) error {
	if !faults[faultIDsSwapped] {
		return c.ServerCodec.WriteResponse(r, body)
	}
	c.mu.Lock()
	k, ok := c.index[r.Seq]
	if !ok {
		c.mu.Unlock()
		return c.ServerCodec.WriteResponse(r, body)
	}
	delete(c.index, r.Seq)
	partner := k ^ 1
	swap, decided := c.swapped[k/2]
	if !decided {
		partnerRead := c.readChan(partner)
		c.mu.Unlock()
		select {
		case <-partnerRead:
			swap = true
		case <-time.After(pairWait):
		}
		c.mu.Lock()
		c.swapped[k/2] = swap
	}
	seq := r.Seq
	if swap {
		seq = c.seqs[partner]
	}
	c.mu.Unlock()
	answer := *r
	answer.Seq = seq
	return c.ServerCodec.WriteResponse(&answer, body)
}
