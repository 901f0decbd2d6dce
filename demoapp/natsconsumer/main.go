// Command natsconsumer is a consuming service in a few lines: it follows the
// RTCPLUG stream of a cluster of rtcplug nodes and prints every peer state
// and keyframe, optionally saving the JPEGs.
//
//	go run ./demoapp/natsconsumer -nats nats://127.0.0.1:4222 -out frames
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nutsbolts/webrtc/rtcplug/rtcnats"
)

func main() {
	url := flag.String("nats", nats.DefaultURL, "NATS `url`")
	out := flag.String("out", "", "save keyframe JPEGs under this `directory` as <conference>/<peer>/<time>.jpg")
	all := flag.Bool("all", false, "start at the oldest event the stream holds, not at the newest")
	subject := flag.String("subject", rtcnats.SubjectPrefix+".>", "`subject` filter, e.g. rtcplug.room.*.state")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *url, *subject, *out, *all); err != nil {
		fmt.Fprintln(os.Stderr, "natsconsumer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, subject, out string, all bool) error {
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	policy := jetstream.DeliverNewPolicy
	if all {
		policy = jetstream.DeliverAllPolicy
	}
	// An ordered consumer: no state on the server, recreated after a
	// reconnect, every message in stream order.
	cons, err := js.OrderedConsumer(ctx, rtcnats.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject}, DeliverPolicy: policy})
	if err != nil {
		return fmt.Errorf("stream %s: %w", rtcnats.StreamName, err)
	}
	var objects jetstream.ObjectStore // opened on the first keyframe that needs it
	cc, err := cons.Consume(func(m jetstream.Msg) {
		h := m.Headers()
		node, conf, peer, at := h.Get(rtcnats.HeaderNode), h.Get(rtcnats.HeaderConference), h.Get(rtcnats.HeaderPeer), h.Get(rtcnats.HeaderTime)
		switch kind := m.Subject()[len(m.Subject())-len(filepath.Ext(m.Subject()))+1:]; kind {
		case "state":
			var st rtcnats.StateBody
			if err := json.Unmarshal(m.Data(), &st); err != nil {
				fmt.Printf("%s %s/%s on %s: bad state body: %v\n", at, conf, peer, node, err)
				return
			}
			line := fmt.Sprintf("%s %s/%s on %s: %s", at, conf, peer, node, st.State)
			if st.Identity != "" {
				line += " (" + st.Identity + ")"
			}
			if st.Err != "" {
				line += ": " + st.Err
			}
			if r := h.Get(rtcnats.HeaderReporter); r != "" {
				line += " [reported by " + r + "]"
			}
			fmt.Println(line)
		case "keyframe":
			jpg := m.Data()
			if name := h.Get(rtcnats.HeaderObject); name != "" {
				if objects == nil {
					if objects, err = js.ObjectStore(ctx, h.Get(rtcnats.HeaderObjectBucket)); err != nil {
						fmt.Println("object store:", err)
						return
					}
				}
				if jpg, err = objects.GetBytes(ctx, name); err != nil {
					fmt.Println("keyframe object:", err)
					return
				}
			}
			fmt.Printf("%s %s/%s on %s: keyframe %sx%s %s, %d bytes of JPEG\n", at, conf, peer, node,
				h.Get(rtcnats.HeaderWidth), h.Get(rtcnats.HeaderHeight), h.Get(rtcnats.HeaderCodec), len(jpg))
			if out != "" {
				if err := save(out, conf, peer, at, jpg); err != nil {
					fmt.Println("save:", err)
				}
			}
		case "frame":
			fmt.Printf("%s %s/%s on %s: frame %d bytes (keyframe %s)\n", at, conf, peer, node, len(m.Data()), h.Get(rtcnats.HeaderKeyframe))
		}
	})
	if err != nil {
		return err
	}
	defer cc.Stop()
	fmt.Fprintf(os.Stderr, "following %s (%s) on %s; Ctrl-C to stop\n", rtcnats.StreamName, subject, url)
	<-ctx.Done()
	return nil
}

// save writes a keyframe; the names come from the headers, so they are
// checked to be plain names first.
func save(dir, conf, peer, at string, jpg []byte) error {
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		t = time.Now()
	}
	for _, s := range []string{conf, peer} {
		if s == "" || s != filepath.Base(s) || s == "." || s == ".." {
			return errors.New("unsafe name in headers")
		}
	}
	d := filepath.Join(dir, conf, peer)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, t.UTC().Format("20060102T150405.000000000Z")+".jpg"), jpg, 0o644)
}
