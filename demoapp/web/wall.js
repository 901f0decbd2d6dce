// rtcplug wall: a grid of the newest image of every live peer, from
// GET /api/peers (the server's Plugin.Peers), polled every second.
'use strict';

(() => {
  const POLL_MS = 1000;
  const wall = document.getElementById('wall');
  const note = document.getElementById('wall-note');

  function fmtBitrate(b) {
    if (b >= 1e6) return (b / 1e6).toFixed(2) + ' Mbit/s';
    if (b >= 1e3) return (b / 1e3).toFixed(0) + ' kbit/s';
    return b + ' bit/s';
  }

  function tile(p) {
    const fig = document.createElement('figure');
    fig.dataset.peer = p.id;
    const frame = document.createElement('div');
    frame.className = 'frame';
    frame.textContent = 'waiting for an image';
    const cap = document.createElement('figcaption');
    const name = document.createElement('span');
    name.className = 'name';
    const meta = document.createElement('span');
    meta.className = 'meta';
    const state = document.createElement('span');
    state.className = 'state';
    const rate = document.createElement('span');
    rate.className = 'bitrate';
    meta.append(state, rate);
    cap.append(name, meta);
    fig.append(frame, cap);
    return fig;
  }

  function update(fig, p) {
    fig.querySelector('.name').textContent = (p.identity || p.id) + ' · ' + p.conference;
    const state = fig.querySelector('.state');
    state.textContent = p.state;
    state.dataset.state = p.state;
    fig.querySelector('.bitrate').textContent = fmtBitrate(p.bitrate);
    if (p.image && fig.dataset.image !== p.image) {
      // Load off-screen first, so the tile never flashes empty.
      const img = new Image();
      img.alt = 'Newest image of peer ' + p.id;
      img.addEventListener('load', () => {
        fig.querySelector('.frame').replaceChildren(img);
        fig.dataset.image = p.image;
      });
      img.src = p.image;
    }
  }

  let inFlight = false;
  async function refresh() {
    if (inFlight) return;
    inFlight = true;
    try {
      const res = await fetch('/api/peers', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const peers = (await res.json()).peers || [];
      const have = new Map();
      for (const fig of wall.children) have.set(fig.dataset.peer, fig);
      const figs = peers.map((p) => {
        const fig = have.get(p.id) || tile(p);
        update(fig, p);
        return fig;
      });
      wall.replaceChildren(...figs);
      note.textContent = 'No peers yet.';
      note.hidden = peers.length > 0;
    } catch (e) {
      note.textContent = 'Could not ask the server: ' + e.message;
      note.hidden = false;
    } finally {
      inFlight = false;
    }
  }

  refresh();
  setInterval(refresh, POLL_MS);
})();
