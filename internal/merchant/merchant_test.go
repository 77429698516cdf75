package merchant

import (
	"testing"

	"piao/internal/fault"
)

// TestStatusMachine: every status × action either leads where the machine
// says or is a conflict; unknown actions are invalid; the actions that
// need a reason say so.
func TestStatusMachine(t *testing.T) {
	want := map[Status]map[Action]Status{
		Applied:       {Approve: Approved, Reject: Rejected, RequestInfo: InfoRequested},
		InfoRequested: {Resubmit: Applied, Reject: Rejected},
		Approved:      {Suspend: Suspended},
		Suspended:     {Suspend: Suspended, Reinstate: Approved},
		Rejected:      {},
	}
	actions := []Action{Approve, Reject, RequestInfo, Resubmit, Suspend, Reinstate}
	for _, from := range Statuses {
		for _, a := range actions {
			to, err := Next(from, a)
			if w, ok := want[from][a]; ok {
				if err != nil || to != w {
					t.Errorf("%s —%s→ %s, %v; want %s", from, a, to, err, w)
				}
			} else if !fault.Is(err, fault.Conflict) {
				t.Errorf("%s —%s→ %v, want a conflict", from, a, err)
			}
		}
	}
	if _, err := Next(Applied, "delete"); !fault.Is(err, fault.Invalid) {
		t.Errorf("unknown action: %v", err)
	}
	for _, a := range actions {
		if need := a == Reject || a == RequestInfo || a == Suspend; a.NeedsReason() != need {
			t.Errorf("%s needs a reason: %v", a, a.NeedsReason())
		}
	}
}
