package dtls

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
)

// vectorFile is a parsed testdata/vectors file: vector id -> name -> value
// (see testdata/vectors/README.txt for the format). Only hex and quoted
// values are kept; names are cut before " =" or " (".
type vectorFile map[string]map[string][]byte

var hexGroup = regexp.MustCompile(`^([0-9a-f]{2})+$`)

func hexTokens(s string) ([]byte, bool) {
	var out []byte
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, false
	}
	for i, f := range fields {
		if strings.HasPrefix(f, "(") {
			if i == 0 {
				return nil, false
			}
			break
		}
		if !hexGroup.MatchString(f) {
			return nil, false
		}
		b, _ := hex.DecodeString(f)
		out = append(out, b...)
	}
	return out, true
}

func loadVectors(t *testing.T, path string) vectorFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vf := vectorFile{}
	var cur map[string][]byte
	last := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"), strings.HasPrefix(line, "|"), strings.TrimSpace(line) == "":
			continue
		case strings.HasPrefix(line, "["):
			id := line[1:strings.Index(line, "]")]
			cur = map[string][]byte{}
			vf[id] = cur
			last = ""
			continue
		}
		if cur == nil {
			continue
		}
		indented := line[0] == ' '
		if indented && last != "" {
			if b, ok := hexTokens(line); ok {
				cur[last] = append(cur[last], b...)
				continue
			}
		}
		i := strings.Index(line, ":")
		if i < 0 {
			last = ""
			continue
		}
		name := strings.TrimSpace(line[:i])
		for _, cut := range []string{" =", " ("} {
			if j := strings.Index(name, cut); j >= 0 {
				name = name[:j]
			}
		}
		val := strings.TrimSpace(line[i+1:])
		switch {
		case strings.HasPrefix(val, `"`):
			cur[name] = []byte(val[1:strings.LastIndex(val, `"`)])
			last = ""
		case val == "":
			cur[name] = nil
			last = name
		default:
			if b, ok := hexTokens(val); ok {
				cur[name] = b
				last = name
			} else {
				last = ""
			}
		}
	}
	return vf
}

const prfVectors = "../../../testdata/vectors/tls12-prf.txt"

func TestPRFVectors(t *testing.T) {
	vf := loadVectors(t, prfVectors)
	for id, h := range map[string]crypto.Hash{"tls12-prf-sha256": crypto.SHA256, "tls12-prf-sha384": crypto.SHA384} {
		v := vf[id]
		want := v["output"]
		if len(v["secret"]) != 16 || len(v["seed"]) != 16 || len(want) < 100 {
			t.Fatalf("%s: vector not parsed: %v", id, v)
		}
		got := make([]byte, len(want))
		prf(h, got, v["secret"], string(v["label"]), v["seed"])
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", id, got, want)
		}
	}
}

// TestKeySchedule pins master secret, key block and verify_data with the
// pion/dtls-derived vector, and the extended master secret and exporter
// with the self-computed examples (regression aids).
func TestKeySchedule(t *testing.T) {
	vf := loadVectors(t, prfVectors)
	v := vf["tls12-key-schedule"]
	cr, sr, pms := v["client-random"], v["server-random"], v["pre-master-secret"]
	if len(cr) != 32 || len(sr) != 32 || len(pms) != 32 {
		t.Fatalf("vector not parsed: %v", v)
	}
	ms := make([]byte, 48)
	prf(crypto.SHA256, ms, pms, labelMasterSecret, cr, sr)
	if !bytes.Equal(ms, v["master-secret"]) {
		t.Fatalf("master secret %x", ms)
	}
	s, _ := suiteByID(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	k := deriveKeys(s, ms, cr, sr)
	for name, got := range map[string][]byte{"client-write-key": k.clientKey, "server-write-key": k.serverKey,
		"client-write-iv": k.clientIV, "server-write-iv": k.serverIV} {
		if !bytes.Equal(got, v[name]) {
			t.Errorf("%s %x want %x", name, got, v[name])
		}
	}
	tr := v["handshake-transcript"]
	if len(tr) != 1370 {
		t.Fatalf("transcript %d bytes", len(tr))
	}
	if vd := finishedVerifyData(crypto.SHA256, ms, labelClientFinished, tr); !bytes.Equal(vd, v["client-verify-data"]) {
		t.Errorf("verify_data %x", vd)
	}

	e := vf["rfc7627-ems"]
	sh := crypto.SHA256.New()
	sh.Write(tr)
	if ems := extendedMasterSecret(crypto.SHA256, pms, sh.Sum(nil)); !bytes.Equal(ems, e["extended-master-secret"]) {
		t.Errorf("EMS %x", ems)
	}

	x := vf["rfc5705-exporter"]
	srv := &Server{conn: conn{state: established, master: ms, suite: s}}
	copy(srv.clientRandom[:], cr)
	copy(srv.serverRandom[:], sr)
	for name, n := range map[string]int{"ekm-60": 60, "ekm-56": 56, "ekm-88": 88} {
		got, err := srv.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, n)
		if err != nil || !bytes.Equal(got, x[name]) {
			t.Errorf("%s: %x %v", name, got, err)
		}
	}
	if _, err := srv.ExportKeyingMaterial(labelMasterSecret, nil, 48); err == nil {
		t.Error("reserved label exported")
	}
}
