package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/foureyes/foureyes/temporal-server/internal/devserver"
)

// visibilityDBName is the SQLite file of visibility in the data folder.
const visibilityDBName = "temporal-visibility.db"

// visibilityFile is where visibility is kept: a file of its own, so that
// its writes get a SQLite connection of their own (devserver.Options). A
// data folder made before (temporal-server.db without it) keeps visibility
// in temporal-server.db, where its records are: nothing is moved or lost.
// "" means in temporal-server.db.
func visibilityFile(dataDir string, shared bool) (string, error) {
	vis, main := filepath.Join(dataDir, visibilityDBName), filepath.Join(dataDir, "temporal-server.db")
	visExists, err := exists(vis)
	if err != nil || shared {
		return "", err
	}
	mainExists, err := exists(main)
	switch {
	case err != nil:
		return "", err
	case visExists && !mainExists:
		return "", fmt.Errorf("%s without %s: it lists workflows that are gone; move it away to start afresh", vis, main)
	case mainExists && !visExists:
		return "", nil
	}
	return vis, nil
}

// visibilityWhere says where visibility is kept, for the start-up lines.
func visibilityWhere(o devserver.Options) string {
	if o.VisibilityDBFile != "" {
		return o.VisibilityDBFile
	}
	return fmt.Sprintf("in %s (one SQLite connection for both; a data folder made afresh keeps it in %s)",
		o.DBFile, visibilityDBName)
}

func exists(file string) (bool, error) {
	_, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
