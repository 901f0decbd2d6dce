package rtcplug

import (
	"errors"
	"log/slog"
	"path/filepath"

	"github.com/nutsbolts/webrtc/rtcplug/internal/media"
	"github.com/nutsbolts/webrtc/rtcplug/internal/record"
)

// newRecorder starts the recorder of one peer in
// <recordDir>/<conference>/<peer>.
func newRecorder(c *config, conference, peer string, log *slog.Logger) (*record.Recorder, error) {
	conf, id := media.SafeName(conference), media.SafeName(peer)
	if conf == "" || id == "" {
		return nil, errors.New("rtcplug: empty recording path component")
	}
	return record.New(filepath.Join(c.recordDir, conf, id), record.Options{
		Limit:  c.recordLimit,
		Audio:  c.audio,
		Logger: log,
	})
}
