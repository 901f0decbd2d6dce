package h264dec

type cabacState struct{}

func (d *Decoder) sliceDataCABAC(r *bitReader) error {
	return unsupported("CABAC not yet implemented")
}
