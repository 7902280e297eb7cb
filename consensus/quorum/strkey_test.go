package quorum

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// SDF's three validator keys as stellarbeat publishes them.
var knownKeys = []string{
	"GCGB2S2KGYARPVIA37HYZXVRM2YZUEXA6S33ZU5BUDC6THSB62LZSTYH",
	"GCM6QMP3DLRPTAZW2UZPCPX2LF3SXWXKPMP3GKFZBDSF3QZGV2G5QSTK",
	"GABMKJM6I25XI4K7U6XWMULOUQIQ27BCTMLS6BYYSOWKTBUXVRJSXHYQ",
}

func TestParseNodeIDStrkeyRoundTrip(t *testing.T) {
	for _, k := range knownKeys {
		id, err := ParseNodeID(k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if got := id.Strkey(); got != k {
			t.Errorf("Strkey = %s, want %s", got, k)
		}
		h, err := ParseNodeID(hex.EncodeToString(id[:]))
		if err != nil || h != id {
			t.Errorf("hex form of %s: %v", k, err)
		}
	}
}

func TestParseNodeIDChecksumVerified(t *testing.T) {
	k := knownKeys[0]
	// Change one character of the key part: the CRC16 no longer matches.
	bad := k[:10] + string("ABCDEFGH"[(strings.IndexByte("ABCDEFGH", k[10])+1)%8]) + k[11:]
	if bad == k {
		t.Fatal("test did not alter the key")
	}
	if _, err := ParseNodeID(bad); err == nil || !errors.Is(err, ErrBadKey) {
		t.Errorf("corrupted key accepted: %v", err)
	}
}

func TestParseNodeIDRejects(t *testing.T) {
	var seed NodeID
	seedKey := "S" + seed.Strkey()[1:] // wrong prefix
	for _, s := range []string{
		"", "G", "GABC", knownKeys[0] + "A", strings.ToLower(knownKeys[0]),
		strings.Repeat("z", 64), strings.Repeat("0", 63), seedKey,
		// a valid base32 string with the version byte of a secret seed (18<<3)
		"SAV76USXIJOBMEQXPANUOQM6F5LIOTLPDIDVRJBFFE2MDJXG24TAPUU7",
		// SDF2's key misremembered in its last 8 characters: the CRC catches it
		"GCM6QMP3DLRPTAZW2UZPCPX2LF3SXWXKPMP3GKFZBDSF3QZGRM5RAKHH",
	} {
		if _, err := ParseNodeID(s); err == nil {
			t.Errorf("ParseNodeID(%q) accepted", s)
		}
	}
}

func TestCRC16XModemCheckValue(t *testing.T) {
	// The standard check value of CRC-16/XMODEM.
	if got := crc16XModem([]byte("123456789")); got != 0x31C3 {
		t.Errorf("crc = %#x, want 0x31c3", got)
	}
}
