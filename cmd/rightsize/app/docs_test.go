package app

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"rightsize.dev/rightsize/internal/golden"
)

// cliReference renders every command's help as the text of docs/cli.md.
func cliReference() string {
	root := NewCommand(IOStreams{})
	var b strings.Builder
	b.WriteString("# Command reference\n\nGenerated from `--help`; a test fails when this file and the commands disagree.\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		b.WriteString("\n## " + c.CommandPath() + "\n\n")
		if c.Long != "" {
			b.WriteString(c.Long + "\n\n")
		} else {
			b.WriteString(c.Short + "\n\n")
		}
		b.WriteString("```text\n" + c.UsageString() + "```\n")
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return b.String()
}

// TestDocumentation keeps docs/cli.md equal to the commands' --help.
func TestDocumentation(t *testing.T) {
	path := filepath.Join("..", "..", "..", "docs", "cli.md")
	want := cliReference()
	golden.Assert(t, path, []byte(want), "docs/cli.md is stale")
}
