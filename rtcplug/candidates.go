package rtcplug

// Candidate gathering: the addresses an offer or answer advertises.

import (
	"net"
	"net/netip"
	"sort"

	"github.com/nutsbolts/webrtc/rtcplug/internal/ice"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
)

// candidates lists what the offer advertises, all on the one UDP port.
func (p *Plugin) candidates() []sdp.Candidate {
	port := p.mux.Port()
	var out []sdp.Candidate
	pref := ice.LocalPrefSingle
	add := func(a netip.Addr, typ string, typePref uint8, related netip.AddrPort) {
		out = append(out, sdp.Candidate{
			Foundation: ice.Foundation(typ, a, netip.Addr{}, "udp"),
			Component:  1, Protocol: "udp", Type: typ,
			Addr:     netip.AddrPortFrom(a, port),
			Priority: ice.CandidatePriority(typePref, pref, 1),
			Related:  related,
		})
		if pref > 0 {
			pref--
		}
	}
	for _, a := range p.cfg.publicIPs {
		add(a, sdp.CandidateHost, ice.TypePrefHost, netip.AddrPort{})
	}
	for _, a := range p.hostAddrs {
		add(a, sdp.CandidateHost, ice.TypePrefHost, netip.AddrPort{})
	}
	if s := p.srflx.Load(); s != nil {
		// RFC 8445 §5.1.1.3: there is one srflx candidate, from the one
		// socket (bound to the wildcard, so its base is unspecified); the
		// type alone sets its foundation apart from the host ones.
		out = append(out, sdp.Candidate{
			Foundation: ice.Foundation(sdp.CandidateSrflx, netip.Addr{}, netip.Addr{}, "udp"),
			Component:  1, Protocol: "udp", Type: sdp.CandidateSrflx, Addr: *s,
			Priority: ice.CandidatePriority(ice.TypePrefServerReflexive, ice.LocalPrefSingle, 1),
			Related:  netip.AddrPortFrom(netip.IPv4Unspecified(), port),
		})
	}
	return out
}

// hostAddrs lists the addresses of every up interface: non-loopback first,
// IPv6 only when the socket is dual-stack; link-local addresses are left out
// (an IPv6 one needs a zone no SDP can carry).
func hostAddrs(v6 bool, keep func(netip.Addr) bool) []netip.Addr {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr().Unmap()
			if ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() || (ip.Is6() && !v6) {
				continue
			}
			if keep != nil && !keep(ip) {
				continue
			}
			out = append(out, ip)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return !out[i].IsLoopback() && out[j].IsLoopback()
	})
	return out
}
