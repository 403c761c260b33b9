package api

// trainMethods returns the train.* methods.
func (s *Service) trainMethods() []reg { return nil }
