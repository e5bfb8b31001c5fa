package usagecsv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// MaxLineLength bounds a line, and a record whose quoted fields span lines:
// real rows are a few hundred bytes, and without a bound a file with no line
// break (a binary file, /dev/zero, a gzip bomb) would be buffered whole.
const MaxLineLength = 1 << 20

var (
	errLongLine   = fmt.Errorf("line longer than %d bytes (1 MiB): not a usage CSV file?", MaxLineLength)
	errLongQuote  = quoteError(fmt.Sprintf("the quoted field opened on this line runs past %d bytes (1 MiB): is a quote unclosed?", MaxLineLength))
	errLongRecord = fmt.Errorf("record longer than %d bytes (1 MiB)", MaxLineLength)
	errOpenQuote  = quoteError("the quoted field opened on this line is never closed")
)

// quoteError is csv.ErrQuote told more plainly.
type quoteError string

func (e quoteError) Error() string        { return string(e) }
func (e quoteError) Is(target error) bool { return target == csv.ErrQuote }

// splitter splits RFC 4180 CSV into records of byte-slice fields, with the
// same rules as encoding/csv (quoted fields may hold commas, doubled quotes
// and line breaks; \r\n ends a line like \n; empty lines are skipped) but
// without allocating a string per record. Fields are valid until the next
// call to next.
type splitter struct {
	br   *bufio.Reader
	line int // number of the last line read

	long   []byte   // a line longer than br's buffer, assembled
	quoted []byte   // unquoted field contents when the record has quotes
	ends   []int    // field ends in quoted
	fields [][]byte // the current record's fields

	// plain: the record is one line without quotes, text (see span).
	plain bool
	text  []byte
}

// ioError marks a read error of the underlying reader, as opposed to a CSV
// syntax error.
type ioError struct{ err error }

func (e ioError) Error() string { return e.err.Error() }
func (e ioError) Unwrap() error { return e.err }

// readLine returns the next line without its line ending, and io.EOF when
// there are no more lines. A last line without a trailing newline counts.
// A line longer than MaxLineLength is a syntaxError, read no further.
func (s *splitter) readLine() ([]byte, error) {
	line, err := s.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.long = append(s.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			// Two bytes over the bound leave room for \r\n.
			if len(s.long) > MaxLineLength+2 {
				return nil, syntaxError{s.line + 1, errLongLine}
			}
			line, err = s.br.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	if len(line) == 0 {
		if err == nil || err == io.EOF {
			return nil, io.EOF
		}
		return nil, ioError{err}
	}
	if err != nil && err != io.EOF {
		return nil, ioError{err}
	}
	s.line++
	if line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
	}
	if len(line) > MaxLineLength {
		return nil, syntaxError{s.line, errLongLine}
	}
	return line, nil
}

// next reads the next record and returns the line it starts on. Errors are
// io.EOF, an ioError, or a syntaxError.
func (s *splitter) next() (start int, err error) {
	var line []byte
	for len(line) == 0 {
		if line, err = s.readLine(); err != nil {
			return 0, err
		}
	}
	start = s.line
	// The common case: no quotes, so fields are the bytes between commas
	// and can point into the read buffer.
	if s.fields, s.plain = splitPlain(line, s.fields[:0]); s.plain {
		s.text = line
		return start, nil
	}
	s.fields, s.text = s.fields[:0], nil
	return start, s.splitQuoted(line)
}

// span returns the text of a plain record from field lo to field hi, the
// commas between included.
func (s *splitter) span(lo, hi int) []byte {
	at := 0
	for _, f := range s.fields[:lo] {
		at += len(f) + 1
	}
	end := at + len(s.fields[lo])
	for _, f := range s.fields[lo+1 : hi+1] {
		end += 1 + len(f)
	}
	return s.text[at:end]
}

// splitPlain appends the fields of a line without quotes to fields, and
// reports false for a line with one. It looks at eight bytes at a time: a
// row's fields are short, and finding each comma with a call would cost
// more than the search.
func splitPlain(line []byte, fields [][]byte) ([][]byte, bool) {
	const (
		commas = 0x2c2c2c2c2c2c2c2c
		quotes = 0x2222222222222222
	)
	from, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		w := binary.LittleEndian.Uint64(line[i:])
		if zeroBytes(w^quotes) != 0 {
			return fields, false
		}
		for c := zeroBytes(w ^ commas); c != 0; c &= c - 1 {
			j := i + bits.TrailingZeros64(c)/8
			fields = append(fields, line[from:j:j])
			from = j + 1
		}
	}
	for ; i < len(line); i++ {
		switch line[i] {
		case '"':
			return fields, false
		case ',':
			fields = append(fields, line[from:i:i])
			from = i + 1
		}
	}
	return append(fields, line[from:len(line):len(line)]), true
}

// zeroBytes has the top bit set of each byte of x that is zero, and no
// other bit.
func zeroBytes(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&low7 + low7) | x | low7)
}

// syntaxError is a CSV syntax error on a line.
type syntaxError struct {
	line int
	err  error
}

func (e syntaxError) Error() string { return e.err.Error() }

// splitQuoted splits a record that has quotes, reading more lines when a
// quoted field spans them. Field contents are copied to s.quoted, since the
// read buffer is overwritten by the next line.
func (s *splitter) splitQuoted(line []byte) error {
	s.quoted, s.ends = s.quoted[:0], s.ends[:0]
	start := s.line
	for {
		if len(line) > 0 && line[0] == '"' {
			// An unclosed quote is reported where it opened, not where
			// the file or the bound ends, far below.
			open := s.line
			line = line[1:]
			for {
				i := bytes.IndexByte(line, '"')
				if i < 0 {
					// The field goes on past the line break.
					s.quoted = append(s.quoted, line...)
					s.quoted = append(s.quoted, '\n')
					if len(s.quoted) > MaxLineLength {
						return syntaxError{open, errLongQuote}
					}
					var err error
					if line, err = s.readLine(); err == io.EOF {
						return syntaxError{open, errOpenQuote}
					} else if err != nil {
						return err
					}
					continue
				}
				s.quoted = append(s.quoted, line[:i]...)
				line = line[i+1:]
				if len(line) > 0 && line[0] == '"' {
					s.quoted = append(s.quoted, '"')
					line = line[1:]
					continue
				}
				break
			}
			if len(s.quoted) > MaxLineLength {
				return syntaxError{start, errLongRecord}
			}
			s.ends = append(s.ends, len(s.quoted))
			if len(line) == 0 {
				break
			}
			if line[0] != ',' {
				return syntaxError{s.line, csv.ErrQuote}
			}
			line = line[1:]
			continue
		}
		i := bytes.IndexByte(line, ',')
		field := line
		if i >= 0 {
			field = line[:i]
		}
		if bytes.IndexByte(field, '"') >= 0 {
			return syntaxError{s.line, csv.ErrBareQuote}
		}
		s.quoted = append(s.quoted, field...)
		if len(s.quoted) > MaxLineLength {
			return syntaxError{start, errLongRecord}
		}
		s.ends = append(s.ends, len(s.quoted))
		if i < 0 {
			break
		}
		line = line[i+1:]
	}
	prev := 0
	for _, end := range s.ends {
		s.fields = append(s.fields, s.quoted[prev:end:end])
		prev = end
	}
	return nil
}
