//go:build !unix

package statestore

import (
	"errors"
	"fmt"
	"os"
)

// acquireLock creates path exclusively where flock is not available; a
// crashed run leaves it behind and the error says which file to remove.
func acquireLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".excl", os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("in use by another rightsize run (remove %s if none runs)", path+".excl")
	}
	return f, err
}

func releaseLock(f *os.File) error {
	name := f.Name()
	err := f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}
