package ice

import (
	"net/netip"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

// FuzzHandleBinding feeds arbitrary datagrams to an agent: never a panic,
// and nothing authenticates unless its
// MESSAGE-INTEGRITY verifies with the local password.
func FuzzHandleBinding(f *testing.F) {
	f.Add(captureFrame(f, 1), true)
	f.Add(captureFrame(f, 5), false)
	for _, r := range []request{chromeLike(), {username: localUfrag + ":x", pwd: localPwd, useCand: true, extra: 0x7001}} {
		f.Add(r.build(f).Raw, true)
	}
	a := NewAgent(localUfrag, localPwd)
	integ := stun.NewIntegrity([]byte(localPwd))
	var m, resp stun.Message
	port := uint16(0)
	f.Fuzz(func(t *testing.T, data []byte, remoteKnown bool) {
		if remoteKnown {
			a.SetRemoteCredentials(remoteUfrag, remotePwd)
		} else {
			a.SetRemoteCredentials("", "")
		}
		if m.Decode(data) != nil {
			return
		}
		port++
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(port)}), port)
		out, res := a.HandleBinding(t0, src, &m, nil)
		if res.Authenticated && integ.Check(&m) != nil {
			t.Fatal("authenticated without valid MESSAGE-INTEGRITY")
		}
		if len(out) > 0 {
			if err := resp.Decode(out); err != nil || resp.CheckFingerprint() != nil || resp.TransactionID != m.TransactionID {
				t.Fatalf("bad response %x: %v", out, err)
			}
			if resp.HasIntegrity() && integ.Check(&resp) != nil {
				t.Fatal("response MESSAGE-INTEGRITY does not verify")
			}
		}
	})
}
