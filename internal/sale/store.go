package sale

import (
	"context"
	"time"

	"piao/internal/benefits"
	"piao/internal/ledger"
)

// Store keeps offers, passengers' purchases and the refunds of bought
// tickets. Each method is one transaction; the journal entries a method
// takes are posted in that transaction, with the change they record.
type Store interface {
	// CreateOffer stores an offer and sets its ID (ErrOfferExists if its
	// campaign has one).
	CreateOffer(ctx context.Context, o *Offer) error
	// Offer returns one offer (ErrOfferNotFound).
	Offer(ctx context.Context, id int64) (Offer, error)
	// Offers lists offers, newest first; onSale keeps those on sale.
	Offers(ctx context.Context, onSale bool) ([]Offer, error)
	// UpdateOffer stores o if the stored one is at o.Version−1 (ErrStale).
	UpdateOffer(ctx context.Context, o Offer) error
	// Sold returns how many tickets of an offer pending and paid purchases
	// hold, in all and of one buyer.
	Sold(ctx context.Context, offerID, buyer int64) (all, mine int, err error)

	// CreatePurchase stores a pending purchase and sets its ID, with its
	// offer locked: check is called with the offer, the stock of its
	// campaign and the tickets pending and paid purchases of the offer hold
	// (in all, and of p.Buyer), and nothing is stored if it refuses.
	CreatePurchase(ctx context.Context, p *Purchase, check func(o Offer, stock, sold, mine int) error) error
	// Purchase returns one purchase (ErrNotFound).
	Purchase(ctx context.Context, id int64) (Purchase, error)
	// Purchases lists purchases f selects, newest first.
	Purchases(ctx context.Context, f Filter) ([]Purchase, error)
	// UpdatePurchase stores p if the stored one is at p.Version−1
	// (ErrStale otherwise), and posts entries in the same transaction.
	UpdatePurchase(ctx context.Context, p Purchase, entries ...ledger.Entry) error
	// DuePurchases lists pending purchases expired by now, oldest first.
	DuePurchases(ctx context.Context, now time.Time, limit int) ([]Purchase, error)
	// Unissued lists paid purchases whose tickets are not all issued yet,
	// oldest first.
	Unissued(ctx context.Context, limit int) ([]Purchase, error)
	// PurchaseOfTicket returns the purchase a ticket was issued for
	// (ErrNotBought for a ticket no purchase issued).
	PurchaseOfTicket(ctx context.Context, ticketID int64) (Purchase, error)

	// RefundTicket locks a bought ticket and its purchase, asks decide for
	// the refund and its journal entry, and then revokes the ticket, stores
	// the refund (setting its ID) and posts the entry, together; nothing
	// is written if decide refuses. A ticket refunded before is a conflict.
	RefundTicket(ctx context.Context, ticketID int64, decide func(p Purchase, t benefits.Ticket) (Refund, ledger.Entry, error)) (Refund, error)
	// Refund returns a ticket's refund (ErrRefundNotFound).
	Refund(ctx context.Context, ticketID int64) (Refund, error)
	// UpdateRefund stores r if the stored one is at r.Version−1 (ErrStale),
	// and posts entries in the same transaction.
	UpdateRefund(ctx context.Context, r Refund, entries ...ledger.Entry) error
	// PendingRefunds lists refunds the gateway has not paid yet, oldest first.
	PendingRefunds(ctx context.Context, limit int) ([]Refund, error)
}
