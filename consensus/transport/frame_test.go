package transport

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var b []byte
	b = appendFrame(b, KindEnvelope, []byte("abc"))
	b = appendFrame(b, kindPing, nil)
	r := bufio.NewReader(bytes.NewReader(b))
	k, p, err := readFrame(r, 100)
	if err != nil || k != KindEnvelope || string(p) != "abc" {
		t.Fatalf("first frame: %v %v %q", err, k, p)
	}
	k, p, err = readFrame(r, 100)
	if err != nil || k != kindPing || len(p) != 0 {
		t.Fatalf("second frame: %v %v %q", err, k, p)
	}
	if _, _, err := readFrame(bufio.NewReader(bytes.NewReader(appendFrame(nil, KindRecord, make([]byte, 100)))), 100); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	if _, _, err := readFrame(bufio.NewReader(bytes.NewReader([]byte{0, 0, 0, 0})), 100); !errors.Is(err, ErrBadFrame) {
		t.Fatalf("empty: %v", err)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(nil, KindEnvelope, []byte("x")))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	h := hello{id: [32]byte{1}}
	f.Add(appendFrame(nil, kindHello, h.encode()))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for {
			k, p, err := readFrame(r, 1<<16)
			if err != nil {
				return
			}
			if k == kindHello {
				decodeHello(p)
			}
		}
	})
}
