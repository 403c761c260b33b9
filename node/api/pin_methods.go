package api

// Pinner is the node's pinning service (pin.* methods).
type Pinner interface{}

// pinMethods returns the pin.* methods.
func (s *Service) pinMethods() []reg { return nil }
