package dataset

import "fmt"

// Pages returns how many pages an object of objectLen bytes takes at pageSize
// bytes a page: ceil(objectLen / pageSize), and 0 for an empty object. It
// fails with ErrInvalidParams when pageSize is 0.
func Pages(objectLen, pageSize uint64) (uint64, error) {
	if pageSize == 0 {
		return 0, fmt.Errorf("%w: page size 0", ErrInvalidParams)
	}
	n := objectLen / pageSize
	if objectLen%pageSize != 0 {
		n++
	}
	return n, nil
}

// PageRange returns the byte range [start, end) of page i of an object.
func PageRange(objectLen, pageSize, i uint64) (start, end uint64, err error) {
	n, err := Pages(objectLen, pageSize)
	if err != nil {
		return 0, 0, err
	}
	if i >= n {
		return 0, 0, fmt.Errorf("%w: page %d of %d", ErrInvalidParams, i, n)
	}
	start = i * pageSize
	end = min(start+pageSize, objectLen)
	return start, end, nil
}

// Split cuts data into pages of pageSize bytes (the last may be shorter).
// The pages alias data. Callers with large objects read and page a stream
// themselves, using Pages and PageRange for the arithmetic.
func Split(data []byte, pageSize uint64) ([][]byte, error) {
	n, err := Pages(uint64(len(data)), pageSize)
	if err != nil {
		return nil, err
	}
	pages := make([][]byte, 0, n)
	for i := uint64(0); i < n; i++ {
		start := i * pageSize
		end := min(start+pageSize, uint64(len(data)))
		pages = append(pages, data[start:end:end])
	}
	return pages, nil
}
