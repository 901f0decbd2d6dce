package peer

import "testing"

func TestStartsH264AccessUnit(t *testing.T) {
	for _, c := range []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"SPS", []byte{0x67, 0x42, 0xc0, 0x1f}, true},
		{"AUD", []byte{0x09, 0xf0}, true},
		{"IDR first slice", []byte{0x65, 0x88, 0x84}, true},
		{"IDR second slice", []byte{0x65, 0x40, 0x84}, false},
		{"P first slice", []byte{0x41, 0x9a, 0x02}, true},
		{"STAP-A SPS+PPS", []byte{0x78, 0x00, 0x04, 0x67, 0x42, 0xc0, 0x1f, 0x00, 0x02, 0x68, 0xce}, true},
		{"FU-A start, IDR first slice", []byte{0x7c, 0x85, 0x88, 0x84}, true},
		{"FU-A start, later slice", []byte{0x7c, 0x85, 0x20}, false},
		{"FU-A middle", []byte{0x7c, 0x05, 0x88}, false},
		{"STAP-B", []byte{0x79, 0, 0, 0, 4, 0x67, 0x42}, false},
		{"short", []byte{0x65}, false},
		{"short STAP-A", []byte{0x78, 0x00, 0x04, 0x67}, false},
	} {
		if got := startsH264AccessUnit(c.payload); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
