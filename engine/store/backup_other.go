//go:build !unix

package store

import "errors"

func sqliteInUse(string) (bool, error) {
	return false, errors.New("cannot tell whether the database is in use on this system: stop the server first")
}
