package catalog

import "math/bits"

// lookup3Init is PostgreSQL's initial value for lookup3 without the length.
const lookup3Init = 0x9e3779b9 + 3923095

// mix3 is lookup3's mix(a, b, c).
func mix3(a, b, c uint32) (uint32, uint32, uint32) {
	a -= c
	a ^= bits.RotateLeft32(c, 4)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 6)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 8)
	b += a
	a -= c
	a ^= bits.RotateLeft32(c, 16)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 19)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 4)
	b += a
	return a, b, c
}

// final3 is lookup3's final(a, b, c); it returns c, the only word used.
func final3(a, b, c uint32) uint32 {
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}

// le32 reads a little-endian word from the first four bytes of k.
func le32[T string | []byte](k T) uint32 {
	_ = k[3]
	return uint32(k[0]) | uint32(k[1])<<8 | uint32(k[2])<<16 | uint32(k[3])<<24
}

// hashBytes is PostgreSQL's hash_bytes (hash_any) on a little-endian machine.
// It is generic so that strings are hashed without a copy.
func hashBytes[T string | []byte](k T) uint32 {
	a := uint32(lookup3Init) + uint32(len(k))
	b, c := a, a
	for len(k) >= 12 {
		a += le32(k)
		b += le32(k[4:])
		c += le32(k[8:])
		a, b, c = mix3(a, b, c)
		k = k[12:]
	}
	// The last 0..11 bytes, little-endian within each word. The low byte of
	// c is never filled: lookup3 reserves it for the length, which
	// PostgreSQL folds into the initial value instead.
	switch len(k) {
	case 11:
		c += uint32(k[10]) << 24
		fallthrough
	case 10:
		c += uint32(k[9]) << 16
		fallthrough
	case 9:
		c += uint32(k[8]) << 8
		fallthrough
	case 8:
		b += uint32(k[7]) << 24
		fallthrough
	case 7:
		b += uint32(k[6]) << 16
		fallthrough
	case 6:
		b += uint32(k[5]) << 8
		fallthrough
	case 5:
		b += uint32(k[4])
		fallthrough
	case 4:
		a += uint32(k[3]) << 24
		fallthrough
	case 3:
		a += uint32(k[2]) << 16
		fallthrough
	case 2:
		a += uint32(k[1]) << 8
		fallthrough
	case 1:
		a += uint32(k[0])
	}
	return final3(a, b, c)
}

// hashUint32 is PostgreSQL's hash_bytes_uint32 (hash_uint32).
func hashUint32(k uint32) uint32 {
	a := uint32(lookup3Init) + 4
	b, c := a, a
	a += k
	return final3(a, b, c)
}

// HashBytes returns PostgreSQL's hash_any over b, read as int32. It is the
// hash of text, varchar and uuid values given their bytes.
func HashBytes(b []byte) int32 {
	return int32(hashBytes(b))
}

// HashUint32 returns PostgreSQL's hash_uint32 of k, read as int32.
func HashUint32(k uint32) int32 {
	return int32(hashUint32(k))
}
