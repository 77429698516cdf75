package benefits

import (
	"slices"
	"time"
)

// SelectWithinBudgets is Select limited by the campaigns' budgets: when the
// best choice would take a campaign past its budget of uses or value, or
// uses a terminated campaign's ticket, that campaign's benefits are set
// aside and the choice is made again from the rest.
func SelectWithinBudgets(r Ride, loc *time.Location, candidates []Benefit, campaigns map[int64]Campaign) Selection {
	for {
		sel := Select(r, loc, candidates)
		uses := map[int64]int{}
		saved := map[int64]int64{}
		for _, a := range sel.Applied {
			uses[a.CampaignID]++
			saved[a.CampaignID] += a.Saving
		}
		var over []int64
		for id, n := range uses {
			c, ok := campaigns[id]
			if !ok {
				continue // not a campaign's benefit
			}
			c.Uses += n - 1 // CanSpend admits one more use
			if !c.CanSpend(saved[id]) {
				over = append(over, id)
			}
		}
		if len(over) == 0 {
			return sel
		}
		candidates = slices.DeleteFunc(slices.Clone(candidates), func(b Benefit) bool { return slices.Contains(over, b.CampaignID) })
	}
}
