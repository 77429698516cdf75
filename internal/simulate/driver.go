package simulate

import (
	"context"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
)

// Driver is the booking system the simulated passengers use: the real
// booking service in this process (InProcess) or a piao server over HTTP
// (HTTP). Methods are called from one goroutine.
//
// Errors are *fault.Error values with the service's stable reasons
// (sold_out, unpaid_order_exists, account_cancel_limit, …): a refusal the
// passenger reacts to. Errors of class fault.Internal or fault.Unavailable
// stop the run.
type Driver interface {
	// Calendar is the first service date the trains run on and how many
	// days they run; the simulation starts at midnight of first.
	Calendar() (first network.Date, days int)
	// Now is the driver's clock.
	Now() time.Time
	// Advance moves the clock forward to t, releasing the holds that end on
	// the way at the times they end.
	Advance(ctx context.Context, t time.Time) error
	// NewAccount creates a passenger booking account and returns its ID.
	NewAccount(ctx context.Context, username string) (int64, error)
	// Book places an order for r.AccountID and returns the held order.
	Book(ctx context.Context, r booking.BookRequest) (booking.Order, error)
	// Cancel cancels a held order by hand.
	Cancel(ctx context.Context, accountID, orderID int64) error
	// Pay pays a held order through the payment sandbox and returns once
	// the gateway's notification has paid it.
	Pay(ctx context.Context, accountID, orderID int64) error
	// JoinWaitlist makes an unpaid waitlist (候补) entry for r.AccountID.
	JoinWaitlist(ctx context.Context, r booking.WaitlistRequest) (booking.WaitlistEntry, error)
	// PayWaitlist prepays an unpaid entry through the payment sandbox and
	// returns once the gateway's notification has put it in the queue.
	PayWaitlist(ctx context.Context, accountID, entryID int64) error
	// Waitlist reads an entry of the account.
	Waitlist(ctx context.Context, accountID, entryID int64) (booking.WaitlistEntry, error)
	// Close releases what the driver holds.
	Close() error
}

// fatal reports whether a driver error must stop the run rather than be
// taken as a refusal.
func fatal(err error) bool {
	switch fault.CodeOf(err) {
	case fault.Internal, fault.Unavailable:
		return true
	}
	return false
}

// reason is the stable reason of a refusal.
func reason(err error) string { return fault.As(err).Reason }
