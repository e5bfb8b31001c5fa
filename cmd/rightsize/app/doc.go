// Package app builds the rightsize command line: one file per subcommand,
// each with Options that are validated before Run, output written to the
// injected streams. Only main calls os.Exit.
package app
