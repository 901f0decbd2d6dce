//go:build linux

package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// wallTile is the wall's tile of one peer as the page shows it.
type wallTile struct {
	Found   bool   `json:"found"`
	State   string `json:"state"`
	Bitrate string `json:"bitrate"`
	Loaded  bool   `json:"loaded"`
	Image   string `json:"image"`
}

const readWall = `((id) => {
	const f = [...document.querySelectorAll('#wall figure')].find((f) => f.dataset.peer === id);
	if (!f) return { found: false };
	const img = f.querySelector('img');
	return { found: true, state: f.querySelector('.state').textContent, bitrate: f.querySelector('.bitrate').textContent,
		loaded: !!img && img.complete && img.naturalWidth > 0, image: f.dataset.image || '' };
})`

// livePanel is the main page's panel from the server's Peers.
type livePanel struct {
	State   string `json:"state"`
	Codec   string `json:"codec"`
	Samples int    `json:"samples"`
}

const readLive = `(() => ({
	state: document.getElementById('live-state').textContent,
	codec: document.getElementById('live-codec').textContent,
	samples: Number(document.getElementById('live-spark').dataset.samples || 0),
}))()`

// checkWall opens /wall in a second tab: within a few seconds it shows the
// test's peer, connected, with an image and a bitrate, and the image is
// replaced by a newer one; the camera page's live panel shows the server's
// view of the peer.
func checkWall(ctx context.Context, t *testing.T, bctx context.Context, url, peerID string) {
	t.Helper()
	tab, cancel := chromedp.NewContext(bctx)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(url+"wall"), chromedp.WaitReady(chromedp.ID("wall"))); err != nil {
		t.Fatalf("open the wall: %v", err)
	}
	opened := time.Now()
	var tile wallTile
	for {
		var err error
		tile, err = chromedp.Run(tab, chromedp.Evaluate[wallTile](readWall+"("+jsString(peerID)+")"))
		if err != nil {
			t.Fatalf("read the wall: %v", err)
		}
		if tile.Found && tile.Loaded && tile.State == "connected" {
			break
		}
		if time.Since(opened) > 10*time.Second || ctx.Err() != nil {
			t.Fatalf("the wall does not show peer %s with an image: %+v", peerID, tile)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("the wall shows peer %s after %v: %+v", peerID, time.Since(opened).Round(time.Millisecond), tile)

	// The demo asks for a keyframe every snapshotInterval: the image changes.
	first := tile.Image
	for deadline := time.Now().Add(5 * snapshotInterval); tile.Image == first; time.Sleep(200 * time.Millisecond) {
		var err error
		tile, err = chromedp.Run(tab, chromedp.Evaluate[wallTile](readWall+"("+jsString(peerID)+")"))
		if err != nil {
			t.Fatalf("read the wall: %v", err)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("the wall's image of peer %s stays %s", peerID, first)
		}
	}
	t.Logf("the wall's image changed from %s to %s", first, tile.Image)

	var live livePanel
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var err error
		live, err = chromedp.Run(bctx, chromedp.Evaluate[livePanel](readLive))
		if err != nil {
			t.Fatalf("read the live panel: %v", err)
		}
		if live.State == "connected" && live.Codec == "VP8" && live.Samples >= 2 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("live panel %+v", live)
		}
	}
	t.Logf("live panel %+v", live)
}

// jsString quotes a peer id (already checked against validName) for JS.
func jsString(s string) string { return "'" + s + "'" }
