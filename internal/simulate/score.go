package simulate

import (
	"context"
	"slices"
	"strings"
	"time"

	"piao/internal/behaviour"
	"piao/internal/governance"
	"piao/internal/network"
)

// Governed is a driver whose governance lists can be applied and read,
// and whose behaviour report can be run, for scoring a run.
type Governed interface {
	// EvaluateLists applies the list rules now.
	EvaluateLists(ctx context.Context) (governance.Evaluation, error)
	// ListMembers returns every membership in force now, and that time.
	ListMembers(ctx context.Context) ([]governance.Membership, time.Time, error)
	// Report is the behaviour report (G4) over the service days from to to,
	// inclusive.
	Report(ctx context.Context, from, to network.Date) (behaviour.Report, error)
}

// Targets are the kinds each list is meant to catch: the restricted list
// the scalpers and the berth seekers who cancelled everything and never
// paid (seed 004 Fig. 1, "100 % cancelled"); the suspected-malicious list
// the scalpers (finding 6); the priority list genuine travellers (Fig. 1,
// "≥ 70 % paid").
var Targets = map[governance.List][]Kind{
	governance.Restricted: {KindScalper, SeekerGaveUp},
	governance.Malicious:  {KindScalper},
	governance.Priority:   {KindGenuine},
}

// ListScore is how well one list matches its targets.
type ListScore struct {
	List    governance.List `json:"list"`
	Targets []Kind          `json:"targets"`
	// Documents and Accounts score the two kinds of subject apart.
	Documents SubjectScore `json:"documents"`
	Accounts  SubjectScore `json:"accounts"`
}

// SubjectScore is precision and recall over one kind of subject.
type SubjectScore struct {
	// Members is the distinct subjects on the list; Hits those of a target
	// kind; Targets every labelled subject of a target kind.
	Members int `json:"members"`
	Hits    int `json:"hits"`
	Targets int `json:"targets"`
	// Precision is Hits/Members and Recall Hits/Targets (0 when undefined).
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// ByKind counts members by the kind of their passenger; subjects the
	// simulation did not create count as "unlabelled".
	ByKind map[Kind]int `json:"by_kind"`
	// Of counts every labelled subject by kind, so ByKind[k]/Of[k] is the
	// share of kind k the list holds.
	Of map[Kind]int `json:"of"`
}

// Unlabelled is the kind of list members the simulation did not create.
const Unlabelled Kind = "unlabelled"

// Score measures each list against the labels: for documents ("doc:…")
// and accounts ("account:…") separately, precision (the share of members
// that are targets) and recall (the share of targets that are members),
// with members broken down by kind. Only memberships in force at at count,
// each subject once per list.
func Score(labels map[string]Tag, members []governance.Membership, at time.Time) []ListScore {
	of := map[bool]map[Kind]int{true: {}, false: {}} // by isDocument
	for sub, tag := range labels {
		of[isDocument(sub)][tag.Kind]++
	}
	var out []ListScore
	for _, l := range governance.Lists {
		ls := ListScore{List: l, Targets: Targets[l]}
		seen := map[string]bool{}
		for _, m := range members {
			if m.List != l || !m.Active(at) || seen[m.Subject] {
				continue
			}
			seen[m.Subject] = true
			s := &ls.Accounts
			if isDocument(m.Subject) {
				s = &ls.Documents
			}
			if s.ByKind == nil {
				s.ByKind = map[Kind]int{}
			}
			s.Members++
			tag, ok := labels[m.Subject]
			if !ok {
				s.ByKind[Unlabelled]++
				continue
			}
			s.ByKind[tag.Kind]++
			if slices.Contains(ls.Targets, tag.Kind) {
				s.Hits++
			}
		}
		for _, doc := range []bool{true, false} {
			s := &ls.Accounts
			if doc {
				s = &ls.Documents
			}
			s.Of = of[doc]
			for _, k := range ls.Targets {
				s.Targets += of[doc][k]
			}
			if s.Members > 0 {
				s.Precision = float64(s.Hits) / float64(s.Members)
			}
			if s.Targets > 0 {
				s.Recall = float64(s.Hits) / float64(s.Targets)
			}
		}
		out = append(out, ls)
	}
	return out
}

func isDocument(subject string) bool { return strings.HasPrefix(subject, "doc:") }
