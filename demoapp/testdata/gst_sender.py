#!/usr/bin/python3
"""A GStreamer webrtcbin sender for the demo server, used by gstreamer_test.go.

    gst_sender.py whip http://HOST:PORT/whip/CONFERENCE [--width W --height H] [--no-audio] [--codec vp8|h264]
    gst_sender.py ws ws://HOST:PORT/ws --conference CONFERENCE [...]

It streams videotestsrc as VP8 or, with --codec h264 (WHIP only), as H.264
from x264enc (and audiotestsrc as Opus) with webrtcbin, as a
WHIP client (RFC 9725: it offers, the server answers) or as a client of the
server's WebSocket signaling (the server offers, it answers). It prints one
line per event on stdout ("peer ID", "connection-state STATE", "error TEXT")
and ends the session cleanly (WHIP DELETE, or LeaveConference) when its stdin
closes. Every element keeps GStreamer's defaults except what a live sender
needs: live sources and the encoder's realtime deadline (vp8enc deadline=1);
for x264enc, tune=zerolatency (no frame-delaying lookahead or B-frames) and
key-int-max (a keyframe a second), the settings a live WHIP sender such as
OBS uses.
"""

import argparse
import asyncio
import json
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

# Bounds, so that a server that does not answer never hangs the test.
HTTP_TIMEOUT = 10
GATHER_TIMEOUT = 10


def say(*words):
    print(*words, flush=True)


# The video encoders and payloaders per --codec.
ENCODERS = {
    "vp8": "vp8enc deadline=1 ! rtpvp8pay pt={pt} "
           "! application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload={pt}",
    "h264": "x264enc tune=zerolatency key-int-max=30 ! rtph264pay pt={pt} "
            "! application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload={pt}",
}


def pipeline(video_pt, audio_pt, width, height, codec="vp8"):
    """The sending pipeline; audio_pt None leaves audio out."""
    desc = (
        "webrtcbin name=webrtc bundle-policy=max-bundle "
        f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate=30/1 "
        "! videoconvert ! queue ! " + ENCODERS[codec].format(pt=video_pt) + " ! webrtc. "
    )
    if audio_pt is not None:
        desc += (
            "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc "
            f"! rtpopuspay pt={audio_pt} ! application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload={audio_pt} "
            "! webrtc. "
        )
    pipe = Gst.parse_launch(desc)
    return pipe, pipe.get_by_name("webrtc")


def sdp_message(text):
    ok, msg = GstSdp.SDPMessage.new_from_text(text)
    if ok != GstSdp.SDPResult.OK:
        raise ValueError("unparsable SDP")
    return msg


def wait_promise(promise, what):
    """Waits for a webrtcbin promise and returns its reply structure."""
    if promise.wait() != Gst.PromiseResult.REPLIED:
        raise RuntimeError(what + ": no reply")
    reply = promise.get_reply()
    if reply is not None and reply.has_field("error"):
        raise RuntimeError(what + ": " + str(reply.get_value("error")))
    return reply


def set_description(webrtc, kind, sdp_type, text):
    desc = GstWebRTC.WebRTCSessionDescription.new(sdp_type, sdp_message(text))
    promise = Gst.Promise.new()
    webrtc.emit("set-" + kind + "-description", desc, promise)
    wait_promise(promise, "set-" + kind + "-description")


def create(webrtc, what):
    """Returns the text of a new offer or answer. The description belongs to
    the promise's reply, so it is read before the promise is released."""
    promise = Gst.Promise.new()
    webrtc.emit("create-" + what, None, promise)
    reply = wait_promise(promise, "create-" + what)
    text = reply.get_value(what).sdp.as_text()
    del reply, promise
    return text


def watch(pipe, webrtc, loop, failed):
    """Reports state changes and ends the loop on a pipeline error."""

    def on_state(obj, _pspec, prop):
        value = obj.get_property(prop)
        say(prop, value.value_nick)
        if prop == "connection-state" and value == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            failed.append("the peer connection failed")
            loop.quit()

    for prop in ("connection-state", "ice-connection-state"):
        webrtc.connect("notify::" + prop, on_state, prop)

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            failed.append(f"{err.message} ({debug})")
            loop.quit()
        return True

    bus = pipe.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)


def on_stdin_eof(callback):
    """Calls callback in the GLib main loop once stdin is closed."""

    def read():
        sys.stdin.read()
        GLib.idle_add(callback)

    threading.Thread(target=read, daemon=True).start()


def run_whip(args):
    pipe, webrtc = pipeline(96, None if args.no_audio else 111, args.width, args.height, args.codec)
    loop = GLib.MainLoop()
    failed = []
    watch(pipe, webrtc, loop, failed)
    location = []
    gathered = threading.Event()

    def on_gathering(obj, _pspec):
        if obj.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            gathered.set()

    webrtc.connect("notify::ice-gathering-state", on_gathering)

    def negotiate():
        # A WHIP client only sends (RFC 9725 §4.2).
        for i in range(2):
            t = webrtc.emit("get-transceiver", i)
            if t is not None:
                t.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        set_description(webrtc, "local", GstWebRTC.WebRTCSDPType.OFFER, create(webrtc, "offer"))
        # Non-trickle WHIP: the offer carries the candidates (RFC 9725 §4.3).
        if not gathered.wait(GATHER_TIMEOUT):
            raise RuntimeError("ICE gathering did not complete")
        sdp = webrtc.get_property("local-description").sdp.as_text()
        req = urllib.request.Request(args.url, data=sdp.encode(), method="POST",
                                     headers={"Content-Type": "application/sdp"})
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
            if resp.status != 201:
                raise RuntimeError(f"WHIP POST: {resp.status}")
            loc = urllib.parse.urljoin(args.url, resp.headers["Location"])
            answer = resp.read().decode()
        location.append(loc)
        say("peer", loc.rstrip("/").rsplit("/", 1)[-1])
        say("answer", *re.findall(r"^a=(setup:\w+)", answer, re.M)[:1])
        set_description(webrtc, "remote", GstWebRTC.WebRTCSDPType.ANSWER, answer)

    def on_negotiation_needed(_element):
        # webrtcbin asks once both pads are linked; the HTTP exchange blocks,
        # so it runs on its own thread.
        def work():
            try:
                negotiate()
            except Exception as e:  # noqa: BLE001 - reported to the test
                failed.append(f"{type(e).__name__}: {e}")
                GLib.idle_add(loop.quit)

        threading.Thread(target=work, daemon=True).start()

    webrtc.connect("on-negotiation-needed", on_negotiation_needed)
    on_stdin_eof(loop.quit)
    pipe.set_state(Gst.State.PLAYING)
    loop.run()
    if location:
        try:
            req = urllib.request.Request(location[0], method="DELETE")
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
                say("deleted", resp.status)
        except urllib.error.URLError as e:
            failed.append(f"WHIP DELETE: {e}")
    pipe.set_state(Gst.State.NULL)
    return failed


def run_ws(args):
    import websockets  # python3-websockets; only this mode needs it

    loop = GLib.MainLoop()
    failed = []
    aio = asyncio.new_event_loop()
    threading.Thread(target=aio.run_forever, daemon=True).start()
    state = {}

    def fail(text):
        failed.append(text)
        GLib.idle_add(loop.quit)

    def send(msg_type, data=None):
        msg = {"type": msg_type}
        if data is not None:
            msg["data"] = data
        ws = state.get("ws")
        if ws is not None:
            asyncio.run_coroutine_threadsafe(ws.send(json.dumps(msg)), aio).result(HTTP_TIMEOUT)

    def on_offer(sdp):
        # The server names its payload types; the payloaders use them.
        vp8 = re.search(r"^a=rtpmap:(\d+) VP8/90000", sdp, re.M | re.I)
        opus = re.search(r"^a=rtpmap:(\d+) opus/48000", sdp, re.M | re.I)
        if vp8 is None:
            raise RuntimeError("the offer has no VP8")
        audio_pt = None if args.no_audio or opus is None else int(opus.group(1))
        pipe, webrtc = pipeline(int(vp8.group(1)), audio_pt, args.width, args.height)
        state["pipe"] = pipe
        watch(pipe, webrtc, loop, failed)

        def on_candidate(_element, mline, candidate):
            send("IceCandidate", {"candidate": candidate, "sdpMLineIndex": mline})

        webrtc.connect("on-ice-candidate", on_candidate)
        pipe.set_state(Gst.State.PLAYING)
        set_description(webrtc, "remote", GstWebRTC.WebRTCSDPType.OFFER, sdp)
        text = create(webrtc, "answer")
        set_description(webrtc, "local", GstWebRTC.WebRTCSDPType.ANSWER, text)
        say("answer", *re.findall(r"^a=(setup:\w+)", text, re.M)[:1])
        send("SdpAnswer", {"sdp": text})

    async def signaling():
        async with websockets.connect(args.url, open_timeout=HTTP_TIMEOUT, max_size=1 << 20) as ws:
            state["ws"] = ws
            async for raw in ws:
                msg = json.loads(raw)
                kind, data = msg.get("type"), msg.get("data") or {}
                if kind == "Welcome":
                    await ws.send(json.dumps({"type": "JoinConference", "data": {"conferenceName": args.conference}}))
                elif kind == "SdpOffer":
                    say("peer", data.get("peer", ""))
                    # GStreamer calls block; they run outside this event loop.
                    threading.Thread(target=guarded, args=(on_offer, data["sdp"]), daemon=True).start()
                elif kind == "PeerState":
                    say("peer-state", data.get("state", ""))
                elif kind == "Error":
                    fail(f"server error {data.get('code')}: {data.get('message')}")

    def guarded(fn, *a):
        try:
            fn(*a)
        except Exception as e:  # noqa: BLE001 - reported to the test
            fail(f"{type(e).__name__}: {e}")

    fut = asyncio.run_coroutine_threadsafe(signaling(), aio)

    def on_done(f):
        if f.cancelled():
            return
        e = f.exception()
        if e is not None:
            fail(f"signaling: {type(e).__name__}: {e}")
        elif not state.get("leaving"):
            fail("the server closed the signaling socket")

    fut.add_done_callback(on_done)
    on_stdin_eof(loop.quit)
    loop.run()
    state["leaving"] = True
    ws = state.get("ws")
    if ws is not None:
        try:
            send("LeaveConference")
            asyncio.run_coroutine_threadsafe(ws.close(), aio).result(HTTP_TIMEOUT)
            say("left")
        except Exception as e:  # noqa: BLE001
            failed.append(f"leave: {type(e).__name__}: {e}")
    if "pipe" in state:
        state["pipe"].set_state(Gst.State.NULL)
    aio.call_soon_threadsafe(aio.stop)
    return failed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["whip", "ws"])
    p.add_argument("url")
    p.add_argument("--conference", default="defaultConference")
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--no-audio", action="store_true")
    p.add_argument("--codec", choices=sorted(ENCODERS), default="vp8")
    args = p.parse_args()
    if args.mode == "ws" and args.codec != "vp8":
        p.error("ws mode answers the server's VP8 format only")
    Gst.init(None)
    say("gstreamer", Gst.version_string())
    failed = run_whip(args) if args.mode == "whip" else run_ws(args)
    for f in failed:
        say("error", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
