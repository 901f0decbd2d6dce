// rtcplug demo page: share the camera with the server and show the keyframes
// it captured. Plain JavaScript, no build step.
//
// Signaling (WebSocket at /ws, JSON {type, data}): the server says Welcome
// (with our peer id), we send JoinConference, the server sends an SdpOffer
// (recvonly video and audio, ICE-lite), we answer with our tracks as sendonly,
// and the server reports PeerState changes and Error refusals.
'use strict';

(() => {
  const GATHER_CAP_MS = 2000; // send the answer after ICE gathering, or after this at the latest
  const POLL_MS = 1500; // how often the gallery asks for new keyframes
  const GALLERY_MAX = 24; // keyframes shown
  const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

  const $ = (id) => document.getElementById(id);
  const ui = {
    form: $('controls'),
    start: $('start'),
    stop: $('stop'),
    conference: $('conference'),
    ws: $('ws-state'),
    ice: $('ice-state'),
    pc: $('pc-state'),
    peer: $('peer-state'),
    peerId: $('peer-id'),
    error: $('error'),
    notice: $('notice'),
    preview: $('preview'),
    previewNote: $('preview-note'),
    gallery: $('gallery'),
    galleryTitle: $('gallery-title'),
    galleryNote: $('gallery-note'),
    live: {
      state: $('live-state'), codec: $('live-codec'), bitrate: $('live-bitrate'),
      lost: $('live-lost'), jitter: $('live-jitter'), frames: $('live-frames'), spark: $('live-spark'),
    },
  };

  // The one running session, or null. A session that ended keeps its
  // conference and peer id for the gallery.
  let session = null;
  let last = null;
  let pollTimer = 0;

  function setState(el, value) {
    el.textContent = value;
    el.dataset.state = value;
  }

  function showError(msg) {
    ui.error.textContent = msg || '';
    ui.error.hidden = !msg;
  }

  function showNotice(msg) {
    ui.notice.textContent = msg || '';
    ui.notice.hidden = !msg;
  }

  function insecureText() {
    return 'This browser allows the camera only on https:// or on localhost. ' +
      'Open the page as http://localhost:… on the server machine, or start demoapp with -tls ' +
      'and open it with https://.';
  }

  function cameraErrorText(e) {
    switch (e && e.name) {
      case 'NotAllowedError':
        return 'Camera permission was refused. Allow the camera for this site ' +
          '(the camera icon in the address bar or the site settings) and press Start again.';
      case 'NotFoundError':
      case 'OverconstrainedError':
        return 'No camera was found. Connect a camera and press Start again.';
      case 'NotReadableError':
      case 'AbortError':
        return 'The camera could not be opened. Another application may be using it.';
      case 'SecurityError':
        return insecureText();
      default:
        return 'Could not open the camera: ' + (e && e.message ? e.message : String(e));
    }
  }

  // getCamera asks for video and audio. Audio is optional: if the microphone
  // is refused or missing, it goes on with video only.
  async function getCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      const err = new Error(insecureText());
      err.name = window.isSecureContext ? 'NotFoundError' : 'SecurityError';
      throw err;
    }
    try {
      return await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (e) {
      if (!['NotAllowedError', 'NotFoundError', 'NotReadableError', 'OverconstrainedError'].includes(e.name)) {
        throw e;
      }
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      showNotice('Sending video only: the microphone is ' +
        (e.name === 'NotAllowedError' ? 'not allowed.' : 'not available.'));
      return stream;
    }
  }

  function signalingURL() {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  }

  function send(s, type, data) {
    if (s.ws && s.ws.readyState === WebSocket.OPEN) {
      s.ws.send(JSON.stringify(data === undefined ? { type } : { type, data }));
    }
  }

  async function start() {
    if (session) return;
    showError('');
    showNotice('');
    const conference = ui.conference.value.trim() || 'defaultConference';
    if (!NAME_RE.test(conference)) {
      showError('The conference name must be 1 to 64 letters, digits, _ or -.');
      return;
    }
    const s = { conference, peerId: null, ws: null, pc: null, stream: null, welcomed: false, closed: false };
    session = s;
    last = s;
    ui.start.disabled = true;
    ui.conference.disabled = true;
    ui.stop.disabled = false;
    for (const el of [ui.ws, ui.ice, ui.pc, ui.peer]) setState(el, 'idle');
    ui.peerId.textContent = '–';
    clearGallery();

    try {
      s.stream = await getCamera();
    } catch (e) {
      showError(cameraErrorText(e));
      end(s, false);
      return;
    }
    if (s.closed) {
      s.stream.getTracks().forEach((t) => t.stop());
      return;
    }
    ui.preview.srcObject = s.stream;
    ui.previewNote.hidden = true;
    openSignaling(s);
  }

  function openSignaling(s) {
    const url = signalingURL();
    setState(ui.ws, 'connecting');
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      showError('Could not connect to the signaling server at ' + url + ': ' + e.message);
      end(s, false);
      return;
    }
    s.ws = ws;
    ws.onopen = () => { if (!s.closed) setState(ui.ws, 'open'); };
    ws.onclose = (ev) => {
      if (s.closed) return;
      setState(ui.ws, 'closed');
      if (!s.welcomed) {
        showError('Could not connect to the signaling server at ' + url + '. Is demoapp running, and is this its address?');
      } else {
        showError('The signaling connection closed' + (ev.code ? ' (code ' + ev.code + (ev.reason ? ': ' + ev.reason : '') + ')' : '') +
          '. Press Start to try again.');
      }
      end(s, false);
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        console.warn('signaling: not JSON', ev.data);
        return;
      }
      handle(s, msg).catch((e) => {
        console.error('signaling:', msg && msg.type, e);
        if (!s.closed) showError('Could not set up the connection: ' + e.message);
      });
    };
  }

  // learnPeer takes our peer id from a message that names it. The files of
  // a peer are under <conference>/<peer>/, so with it the gallery shows only
  // this browser's keyframes; without it, the whole conference's.
  function learnPeer(s, data) {
    if (s.peerId || typeof data.peer !== 'string' || !NAME_RE.test(data.peer)) return;
    s.peerId = data.peer;
    ui.peerId.textContent = s.peerId;
    ui.galleryTitle.textContent = 'Keyframes from this peer';
    refreshGallery();
  }

  async function handle(s, msg) {
    const data = msg.data || {};
    learnPeer(s, data);
    switch (msg.type) {
      case 'Welcome':
        s.welcomed = true;
        send(s, 'JoinConference', { conferenceName: s.conference });
        if (!s.peerId) {
          ui.peerId.textContent = 'not announced';
          ui.peerId.title = 'The server did not say which peer this is, so the gallery shows the whole conference.';
          ui.galleryTitle.textContent = 'Keyframes in conference ' + s.conference;
        }
        startPolling();
        break;
      case 'SdpOffer':
        await answer(s, data.sdp);
        break;
      case 'PeerState':
        setState(ui.peer, data.state || 'unknown');
        if (data.state === 'failed') {
          showError('The server could not connect to this browser. The UDP port of the server must be reachable; ' +
            'from another machine, start demoapp with -public-ip set to the server\'s address on this network.');
        }
        break;
      case 'Error':
        // Every request the page sends is needed for the connection, so a
        // refusal ends this attempt; the message stays on the page.
        showError('The server refused: ' + (data.message || 'no reason given') + (data.code ? ' (' + data.code + ')' : ''));
        end(s, true);
        break;
      default:
        console.debug('signaling: ignoring', msg.type);
    }
  }

  // answer applies the server's offer, puts our tracks on its transceivers
  // (the offer's m-lines are recvonly, so ours are sendonly) and sends the
  // answer once ICE gathering is done.
  async function answer(s, sdp) {
    if (s.pc) s.pc.close();
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    s.pc = pc;
    const report = () => {
      if (s.pc !== pc || s.closed) return;
      setState(ui.ice, pc.iceConnectionState);
      setState(ui.pc, pc.connectionState);
    };
    pc.addEventListener('iceconnectionstatechange', report);
    pc.addEventListener('connectionstatechange', () => {
      report();
      if (pc.connectionState === 'failed' && s.pc === pc && !s.closed) {
        showError('The browser could not connect to the server (ICE or DTLS failed). ' +
          'Check that the server\'s UDP port is reachable from this machine.');
      }
    });
    report();

    await pc.setRemoteDescription({ type: 'offer', sdp });
    const tracks = {
      video: s.stream.getVideoTracks()[0] || null,
      audio: s.stream.getAudioTracks()[0] || null,
    };
    for (const t of pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      const track = tracks[kind];
      if (track) {
        await t.sender.replaceTrack(track);
        if (t.sender.setStreams) t.sender.setStreams(s.stream);
        t.direction = 'sendonly';
        tracks[kind] = null; // one track per kind
      } else {
        t.direction = 'inactive';
      }
    }
    if (tracks.video) {
      throw new Error('the server offered no video section');
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc, GATHER_CAP_MS);
    if (s.closed || s.pc !== pc) return;
    send(s, 'SdpAnswer', { sdp: pc.localDescription.sdp });
  }

  function gathered(pc, capMs) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => { if (pc.iceGatheringState === 'complete') done(); };
      const timer = setTimeout(done, capMs);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  // end stops a session: LeaveConference if asked, then the peer connection,
  // the socket and the camera.
  function end(s, leave) {
    if (s.closed) return;
    s.closed = true;
    if (leave) send(s, 'LeaveConference');
    if (s.ws) s.ws.close(1000, 'bye');
    if (s.pc) s.pc.close();
    if (s.stream) s.stream.getTracks().forEach((t) => t.stop());
    if (session === s) session = null;
    ui.preview.srcObject = null;
    ui.previewNote.hidden = false;
    ui.start.disabled = false;
    ui.conference.disabled = false;
    ui.stop.disabled = true;
    if (s.ws) setState(ui.ws, 'closed');
    if (s.pc) {
      setState(ui.ice, 'closed');
      setState(ui.pc, 'closed');
    }
    if (ui.peer.dataset.state !== 'idle' && ui.peer.dataset.state !== 'failed') setState(ui.peer, 'closed');
    // One more look for keyframes that were saved just before the end.
    setTimeout(() => { if (!session) { stopPolling(); refreshGallery(); } }, POLL_MS);
  }

  // Gallery

  function startPolling() {
    stopPolling();
    refreshGallery();
    pollTimer = setInterval(() => { refreshGallery(); refreshLive(); }, POLL_MS);
  }

  // Live panel: the server's Peers() for this peer, polled with the gallery.

  const SPARK_MS = 60000; // the sparkline covers the last minute
  let history = []; // [{t, bitrate}] of the current peer
  let historyPeer = null;

  function fmtBitrate(b) {
    if (b >= 1e6) return (b / 1e6).toFixed(2) + ' Mbit/s';
    if (b >= 1e3) return (b / 1e3).toFixed(0) + ' kbit/s';
    return b + ' bit/s';
  }

  async function refreshLive() {
    const s = last;
    if (!s || !s.peerId) return;
    let peer = null;
    try {
      const res = await fetch('/api/peers?' + new URLSearchParams({ peer: s.peerId }), { cache: 'no-store' });
      if (!res.ok) return;
      const body = await res.json();
      peer = (body.peers || [])[0] || null;
    } catch (e) {
      return;
    }
    if (s !== last) return;
    if (historyPeer !== s.peerId) { history = []; historyPeer = s.peerId; }
    if (!peer) {
      setState(ui.live.state, 'closed');
      return;
    }
    setState(ui.live.state, peer.state);
    ui.live.codec.textContent = peer.codec || '–';
    ui.live.bitrate.textContent = fmtBitrate(peer.bitrate);
    const total = peer.packets + peer.lost;
    ui.live.lost.textContent = peer.lost + (total > 0 ? ' (' + (100 * peer.lost / total).toFixed(2) + ' %)' : '');
    ui.live.jitter.textContent = peer.jitterMs.toFixed(1) + ' ms';
    ui.live.frames.textContent = peer.frames + ' (' + peer.keyframes + ' key)';
    const now = Date.now();
    history.push({ t: now, bitrate: peer.bitrate });
    history = history.filter((h) => now - h.t <= SPARK_MS);
    drawSpark(ui.live.spark, history, now);
  }

  function drawSpark(svg, points, now) {
    const top = Math.max(1, ...points.map((p) => p.bitrate));
    const xy = points.map((p) => {
      const x = 120 * (1 - (now - p.t) / SPARK_MS);
      const y = 23 - 22 * (p.bitrate / top);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    svg.querySelector('polyline').setAttribute('points', xy.join(' '));
    svg.dataset.samples = String(points.length);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = 0;
  }

  function clearGallery() {
    ui.gallery.replaceChildren();
    ui.galleryNote.textContent = 'No keyframes yet. They appear here a moment after the connection is up.';
    ui.galleryNote.hidden = false;
  }

  let inFlight = false;
  async function refreshGallery() {
    const s = last;
    if (!s || inFlight) return;
    const q = new URLSearchParams({ conference: s.conference, limit: String(GALLERY_MAX) });
    if (s.peerId) q.set('peer', s.peerId);
    inFlight = true;
    try {
      const res = await fetch('/api/snapshots?' + q, { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const body = await res.json();
      if (s === last) render(body.snapshots || []);
    } catch (e) {
      ui.galleryNote.textContent = 'Could not list the keyframes: ' + e.message;
      ui.galleryNote.hidden = false;
    } finally {
      inFlight = false;
    }
  }

  function render(list) {
    const have = new Map();
    for (const fig of ui.gallery.children) have.set(fig.dataset.url, fig);
    const figures = list.map((snap) => have.get(snap.url) || figure(snap));
    ui.gallery.replaceChildren(...figures);
    if (list.length === 0) {
      ui.galleryNote.textContent = 'No keyframes yet. They appear here a moment after the connection is up.';
      ui.galleryNote.hidden = false;
    } else {
      ui.galleryNote.hidden = true;
    }
  }

  function figure(snap) {
    const fig = document.createElement('figure');
    fig.dataset.url = snap.url;
    const link = document.createElement('a');
    link.href = snap.url;
    link.target = '_blank';
    link.rel = 'noopener';
    const img = document.createElement('img');
    img.alt = 'Keyframe ' + snap.name + ' from peer ' + snap.peer;
    img.decoding = 'async';
    img.src = snap.url;
    link.append(img);
    const cap = document.createElement('figcaption');
    const when = document.createElement('span');
    when.textContent = new Date(snap.time).toLocaleTimeString();
    const size = document.createElement('span');
    img.addEventListener('load', () => { size.textContent = img.naturalWidth + '×' + img.naturalHeight; });
    cap.append(when, size);
    fig.append(link, cap);
    return fig;
  }

  ui.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    start();
  });
  ui.stop.addEventListener('click', () => { if (session) end(session, true); });
  window.addEventListener('pagehide', () => { if (session) end(session, true); });
  // ?conference=NAME fills in the name; ?start=1 starts at once (a kiosk or
  // camera box, and browser tests that cannot click).
  const params = new URLSearchParams(location.search);
  if (params.has('conference')) ui.conference.value = params.get('conference');
  if (params.get('start') === '1') start();
  // For the browser test and the developer console: the live peer connection.
  window.rtcplugDemo = { pc: () => (session ? session.pc : null) };
})();
