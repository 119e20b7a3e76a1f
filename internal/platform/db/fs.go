package db

import "io/fs"

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the directory is embedded at compile time
	}
	return sub
}

// Sub returns the migrations directory of an embedded FS; modules call it as
// db.Sub(migrationsFS, "migrations").
func Sub(fsys fs.FS, dir string) fs.FS { return mustSub(fsys, dir) }
