package rpc

import "errors"

// benchDecodeResponse decodes a response and its result the way
// Client.Call does.
func benchDecodeResponse(data []byte, result any) error {
	r, err := decodeResponse(data)
	if err != nil {
		return err
	}
	if r.Error != nil {
		return errors.New(r.Error.Message)
	}
	return decodeResult(r.Result, result)
}
