package api

// Pieces fetches content-addressed pieces (dataset.* methods).
type Pieces interface{}

// datasetMethods returns the dataset.* methods.
func (s *Service) datasetMethods() []reg { return nil }
