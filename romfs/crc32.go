package romfs

// CRC-32/IEEE (polynomial 0xEDB88320 reflected), the checksum of FORMAT.md; hash/crc32 is not
// importable this low in the standard library.

var crcTable = func() (t [8][256]uint32) {
	for i := range 256 {
		c := uint32(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xEDB88320
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 8; k++ {
			c = t[0][c&0xff] ^ c>>8
			t[k][i] = c
		}
	}
	return t
}()

// crcUpdate continues the CRC crc (0 to start) over p (slicing by 8).
func crcUpdate(crc uint32, p []byte) uint32 {
	crc = ^crc
	for len(p) >= 8 {
		crc ^= le32(p, 0)
		crc = crcTable[7][crc&0xff] ^ crcTable[6][crc>>8&0xff] ^ crcTable[5][crc>>16&0xff] ^
			crcTable[4][crc>>24] ^ crcTable[3][p[4]] ^ crcTable[2][p[5]] ^
			crcTable[1][p[6]] ^ crcTable[0][p[7]]
		p = p[8:]
	}
	for _, v := range p {
		crc = crcTable[0][byte(crc)^v] ^ crc>>8
	}
	return ^crc
}

// IndexCRC returns the index checksum of an image whose index is b[:dataOff]: the CRC of
// b[0:60] followed by b[64:dataOff]. It is exported for tools that patch images (the fuzzer).
func IndexCRC(b []byte, dataOff int) uint32 {
	return crcUpdate(crcUpdate(0, b[:hIndexCRC]), b[HeaderSize:dataOff])
}
