package api

// checkpointMethods returns the checkpoint.* methods.
func (s *Service) checkpointMethods() []reg { return nil }
