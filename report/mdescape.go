package report

import (
	"strings"

	"rightsize.dev/rightsize/internal/untrusted"
)

// Names and reasons in Markdown come from outside data (usage files,
// clusters, pricing files), so the plan and the cost report escape
// everything but their fixed text with these: MarkdownCode for names,
// MarkdownText for the rest, MarkdownCell on top of either inside a table.
// Control and format characters become Go escapes (untrusted.Escape): a
// line break would end a table row, list item or heading, and the others
// would reach a chat or a terminal as they are.

// MarkdownCode puts s in a code span, where Markdown reads nothing but a
// backtick: one inside s becomes a quote, so the span cannot be closed
// early. (Kubernetes names hold no backtick; only crafted text does.)
func MarkdownCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + untrusted.Escape(strings.ReplaceAll(s, "`", "'")) + "`"
}

// markdownHTML escapes what GitHub would read as HTML, the brackets of a
// link or image, and the backtick that would open a code span.
var markdownHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "`", "\\`").Replace

// MarkdownText escapes free text.
func MarkdownText(s string) string { return markdownHTML(untrusted.Escape(s)) }

// MarkdownCell makes text already escaped with MarkdownText or
// MarkdownCode safe in a table cell: a pipe ends a cell even inside a code
// span, and an asterisk would read as emphasis.
func MarkdownCell(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`).Replace(untrusted.Escape(s))
}
