package vp8dec

// coeffBands maps a coefficient position to its band (RFC 6386 section 13.3).
var coeffBands = [16]uint8{0, 1, 2, 3, 6, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7}

// zigzag maps scan order to raster position within a 4x4 block (RFC 6386
// section 13).
var zigzag = [16]uint8{0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15}

// Fixed probabilities of RFC 6386 section 11 for key frames.
var (
	kfYmodeProbs  = [4]uint8{145, 156, 163, 128}
	kfUVModeProbs = [3]uint8{142, 114, 183}
)

// Probabilities of the extra bits of the coefficient categories dct_cat3 to
// dct_cat6 (RFC 6386 section 13.2); cat1 and cat2 are decoded inline.
var (
	cat3Probs = [...]uint8{173, 148, 140}
	cat4Probs = [...]uint8{176, 155, 140, 135}
	cat5Probs = [...]uint8{180, 157, 141, 134, 130}
	cat6Probs = [...]uint8{254, 254, 243, 230, 196, 177, 153, 140, 133, 130, 129}
)
