package sqlrow

// Violation is the kind of integrity constraint a statement broke. Each
// engine recognises its own errors (its violation function) and returns
// one of these, so a store maps "already exists" or "refers to nothing"
// the same way on both.
type Violation int

// The constraint kinds the stores tell apart.
const (
	NoViolation Violation = iota
	Unique                // a unique index or primary key
	ForeignKey            // a reference to a row that is not there
	Check                 // a CHECK or NOT NULL constraint
)

// String names the kind for messages and tests.
func (v Violation) String() string {
	switch v {
	case Unique:
		return "unique"
	case ForeignKey:
		return "foreign key"
	case Check:
		return "check"
	}
	return "none"
}
