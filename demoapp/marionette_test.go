//go:build linux

package main

// A minimal client of Marionette, the remote protocol built into Firefox, so
// the Firefox test can read the page the way the Chromium test does through
// chromedp, without a driver binary or a new dependency. Marionette speaks
// over TCP: each message is "<length>:<JSON>", a command is
// [0, id, name, params], and its response is [1, id, error, result].

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// maxMarionetteMessage bounds one message from the browser.
const maxMarionetteMessage = 16 << 20

type marionette struct {
	conn net.Conn
	r    *bufio.Reader
	id   int
}

// dialMarionette connects and reads the greeting.
func dialMarionette(ctx context.Context, addr string) (*marionette, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &marionette{conn: conn, r: bufio.NewReader(conn)}
	var hello struct {
		ApplicationType    string `json:"applicationType"`
		MarionetteProtocol int    `json:"marionetteProtocol"`
	}
	raw, err := m.read(ctx)
	if err == nil {
		err = json.Unmarshal(raw, &hello)
	}
	if err == nil && hello.MarionetteProtocol < 3 {
		err = fmt.Errorf("marionette protocol %d, want 3", hello.MarionetteProtocol)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("marionette greeting: %w", err)
	}
	return m, nil
}

func (m *marionette) Close() error { return m.conn.Close() }

// read returns the JSON of the next message.
func (m *marionette) read(ctx context.Context) ([]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		m.conn.SetReadDeadline(dl)
	} else {
		m.conn.SetReadDeadline(time.Time{})
	}
	head, err := m.r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(head[:len(head)-1])
	if err != nil || n < 0 || n > maxMarionetteMessage {
		return nil, fmt.Errorf("bad message length %q", head)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(m.r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// call sends one command and decodes its result into out (if not nil).
func (m *marionette) call(ctx context.Context, name string, params, out any) error {
	m.id++
	msg, err := json.Marshal([]any{0, m.id, name, params})
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		m.conn.SetWriteDeadline(dl)
	}
	if _, err := m.conn.Write(append([]byte(strconv.Itoa(len(msg))+":"), msg...)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for {
		raw, err := m.read(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var resp []json.RawMessage
		if err := json.Unmarshal(raw, &resp); err != nil || len(resp) != 4 {
			return fmt.Errorf("%s: bad response %.200s", name, raw)
		}
		var id int
		if err := json.Unmarshal(resp[1], &id); err != nil {
			return fmt.Errorf("%s: bad response id %s", name, resp[1])
		}
		if id != m.id {
			continue // the answer to an earlier command that timed out here
		}
		if string(resp[2]) != "null" {
			var e struct {
				Error   string `json:"error"`
				Message string `json:"message"`
			}
			json.Unmarshal(resp[2], &e)
			return fmt.Errorf("%s: %s: %s", name, e.Error, e.Message)
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal(resp[3], out)
	}
}

// newSession starts the WebDriver session every other command needs.
func (m *marionette) newSession(ctx context.Context) (browserVersion string, err error) {
	var res struct {
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := m.call(ctx, "WebDriver:NewSession", map[string]any{"capabilities": map[string]any{}}, &res); err != nil {
		return "", err
	}
	return res.Capabilities.BrowserName + " " + res.Capabilities.BrowserVersion, nil
}

func (m *marionette) navigate(ctx context.Context, url string) error {
	return m.call(ctx, "WebDriver:Navigate", map[string]any{"url": url}, nil)
}

// eval runs a JavaScript expression in the page and decodes its value; a
// promise is awaited (WebDriver "execute script").
func (m *marionette) eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Value json.RawMessage `json:"value"`
	}
	if err := m.call(ctx, "WebDriver:ExecuteScript", map[string]any{"script": "return " + expr, "args": []any{}}, &res); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if len(res.Value) == 0 {
		return errors.New("the script returned nothing")
	}
	return json.Unmarshal(res.Value, out)
}

// quit asks Firefox to exit at once; it closes the connection.
func (m *marionette) quit(ctx context.Context) error {
	return m.call(ctx, "Marionette:Quit", map[string]any{"flags": []string{"eForceQuit"}}, nil)
}
