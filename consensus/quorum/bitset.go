package quorum

import "math/bits"

// bitset is a set of node indexes; all bitsets of one network have the same
// number of words.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) clear(i int)    { b[i>>6] &^= 1 << (uint(i) & 63) }
func (b bitset) has(i int) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

func (b bitset) clone() bitset { return append(bitset(nil), b...) }

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// andCount is |b ∩ c|.
func (b bitset) andCount(c bitset) int {
	n := 0
	for i, w := range b {
		n += bits.OnesCount64(w & c[i])
	}
	return n
}

// subsetOf reports b ⊆ c.
func (b bitset) subsetOf(c bitset) bool {
	for i, w := range b {
		if w&^c[i] != 0 {
			return false
		}
	}
	return true
}

func (b bitset) equal(c bitset) bool {
	for i, w := range b {
		if w != c[i] {
			return false
		}
	}
	return true
}

func (b bitset) intersects(c bitset) bool {
	for i, w := range b {
		if w&c[i] != 0 {
			return true
		}
	}
	return false
}

// or, and, andNot return new sets.
func (b bitset) or(c bitset) bitset {
	r := make(bitset, len(b))
	for i, w := range b {
		r[i] = w | c[i]
	}
	return r
}

func (b bitset) and(c bitset) bitset {
	r := make(bitset, len(b))
	for i, w := range b {
		r[i] = w & c[i]
	}
	return r
}

func (b bitset) andNot(c bitset) bitset {
	r := make(bitset, len(b))
	for i, w := range b {
		r[i] = w &^ c[i]
	}
	return r
}

// next returns the smallest member >= i, or -1.
func (b bitset) next(i int) int {
	if i < 0 {
		i = 0
	}
	wi := i >> 6
	if wi >= len(b) {
		return -1
	}
	w := b[wi] >> (uint(i) & 63)
	if w != 0 {
		return i + bits.TrailingZeros64(w)
	}
	for wi++; wi < len(b); wi++ {
		if b[wi] != 0 {
			return wi<<6 + bits.TrailingZeros64(b[wi])
		}
	}
	return -1
}

// members lists the indexes in ascending order.
func (b bitset) members() []int {
	var r []int
	for i := b.next(0); i >= 0; i = b.next(i + 1) {
		r = append(r, i)
	}
	return r
}
