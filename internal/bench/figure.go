package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Figure is one measured number with what it is compared with: an anchor
// (a published figure) or a ceiling (measured in the same run), the ratio
// of the value to it, and the target it must meet, if any.
type Figure struct {
	Name        string  `json:"name"`
	Value       float64 `json:"value"`
	Unit        string  `json:"unit"`
	Anchor      string  `json:"anchor,omitempty"`
	AnchorValue float64 `json:"anchor_value,omitempty"`
	Ratio       float64 `json:"ratio,omitempty"`
	Target      string  `json:"target,omitempty"` // empty: reported, not judged
	Met         bool    `json:"met"`
	Runs        int     `json:"runs,omitempty"` // the value is the median of this many runs
	Note        string  `json:"note,omitempty"` // latencies, errors, checks
}

// compare fills in the anchor and the ratio against it.
func (f *Figure) compare(anchor string, v float64) {
	f.Anchor, f.AnchorValue = anchor, v
	if v > 0 {
		f.Ratio = f.Value / v
	}
}

// WriteJSON writes one JSON object per figure per line.
func WriteJSON(w io.Writer, figs []Figure) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, f := range figs {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

// WriteTable writes the figures as a table: figure, value, anchor or
// ceiling, ratio, target and whether it is met; notes follow below.
func WriteTable(w io.Writer, figs []Figure) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tANCHOR / CEILING\tRATIO\tTARGET\tMET")
	for _, f := range figs {
		anchor, ratio := "—", "—"
		if f.Anchor != "" {
			anchor = f.Anchor + " = " + human(f.AnchorValue)
			ratio = strconv.FormatFloat(f.Ratio, 'f', 2, 64) + "×"
		}
		target, met := "—", "—"
		if f.Target != "" {
			target, met = f.Target, "no"
			if f.Met {
				met = "yes"
			}
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\n", f.Name, human(f.Value), f.Unit, anchor, ratio, target, met)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range figs {
		if f.Note != "" || f.Runs > 1 {
			var parts []string
			if f.Runs > 1 {
				parts = append(parts, fmt.Sprintf("median of %d runs", f.Runs))
			}
			if f.Note != "" {
				parts = append(parts, f.Note)
			}
			fmt.Fprintf(w, "  %s: %s\n", f.Name, strings.Join(parts, "; "))
		}
	}
	return nil
}

// human formats a number with thousands separators, keeping two decimals
// for small values.
func human(v float64) string {
	if math.Abs(v) < 100 && v != math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// runsOf formats per-run values for a note: "runs 1.2 M, 1.3 M, 1.1 M".
func runsOf(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = human(x)
	}
	return "runs " + strings.Join(parts, ", ")
}
