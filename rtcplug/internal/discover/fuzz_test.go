package discover

import (
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

// FuzzHandle offers arbitrary datagrams from the server to a client with a
// transaction in flight: never a panic, the table stays bounded, and an
// address is only ever returned for the transaction's own ID.
func FuzzHandle(f *testing.F) {
	seed := testClient(Config{Rand: &seqReader{}})
	req, _ := seed.Start(t0, server)
	f.Add(respond(f, req, nil))
	f.Add(respond(f, req, func(m *stun.Message) { m.AddMappedAddress(server6) }))
	f.Add(respond(f, req, func(m *stun.Message) {
		m.SetType(stun.TypeBindingError)
		m.AddErrorCode(420, "Unknown Attribute")
		m.AddUnknownAttributes([]uint16{0x7777})
	}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := testClient(Config{Rand: &seqReader{}})
		req, err := c.Start(t0, server)
		if err != nil {
			t.Fatal(err)
		}
		var sent stun.Message
		if err := sent.Decode(req); err != nil {
			t.Fatal(err)
		}
		_, ok := c.Handle(t0.Add(time.Millisecond), server, data)
		if ok {
			var got stun.Message
			if got.Decode(data) != nil || got.TransactionID != sent.TransactionID {
				t.Fatal("accepted a response to another transaction")
			}
		}
		if c.Pending() > MaxOutstanding {
			t.Fatal("unbounded")
		}
		c.HandleTimeout(t0.Add(time.Hour))
		if c.Pending() != 0 {
			t.Fatal("transaction outlived its timeout")
		}
	})
}
