package sharing

// Kind sorts the refusals of the sharing use cases, for the faces of the hub to answer each the way
// their protocol does.
type Kind int

const (
	// NotFound: there is no such thing the caller may know of. What exists but is not the caller's
	// to see is reported exactly like what does not exist, so that nothing leaks by probing.
	NotFound Kind = iota + 1
	// Forbidden: the caller's grant does not allow the action.
	Forbidden
	// OneWay: the caller's role in the partnership does not allow the action: a write by a reader,
	// or a read by a publisher.
	OneWay
	// NotOwner: the object is another member's; only the member that first published it in the
	// partnership changes it.
	NotOwner
	// Invalid: the submission cannot be read as asked (a conversion's input or options).
	Invalid
	// TooLarge: the submission holds more than one request may.
	TooLarge
)

// Error is a refusal the caller can act on. Message is a sentence for the caller and never carries
// internal detail.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return "sharing: " + e.Message }

func notFound(message string) error  { return &Error{Kind: NotFound, Message: message} }
func forbidden(message string) error { return &Error{Kind: Forbidden, Message: message} }
func oneWay(message string) error    { return &Error{Kind: OneWay, Message: message} }
func notOwner(message string) error  { return &Error{Kind: NotOwner, Message: message} }

// Both "not there" and "not yours" answer the same, so a partner learns nothing about the
// partnerships, collections and objects it was not granted.
const (
	noRoot       = "There is no API root at this path that your credentials open."
	noCollection = "There is no collection at this path that your credentials open."
	noObject     = "The collection holds no object with this id."
	noStatus     = "There is no status resource with this id for your submissions."
)
