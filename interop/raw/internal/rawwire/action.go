package rawwire

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Action is one step of a raw script; Kind says which members apply. The same actions make
// the server's answers and the client's requests; each program performs the kinds it takes.
type Action struct {
	Kind string // the name of its Kind: "headers", "message", …

	Fields    []hpack.HeaderField // headers: as given, in order
	Split     int                 // headers: the largest fragment, 0 for no limit of its own
	Payload   []byte              // message: the whole length-prefixed message; data: the bytes
	FrameSize int                 // message: the largest DATA frame, 0 for no limit of its own
	EndStream bool                // headers, message, data
	Code      uint32              // rst_stream, goaway
	LastID    *uint32             // goaway, where the kind takes last_stream_id; nil: absent
	Debug     string              // goaway
	Sleep     time.Duration       // sleep_ms
}

// Kind is one kind of action: the member that names it, the members it may have besides, and
// how it reads them into an Action (end_stream is read before Read is called).
type Kind struct {
	Name    string
	Members []string
	Read    func(o *Object, a *Action) error
}

// Dialect is how a program reads its actions: the kinds it takes and how it words what differs.
type Dialect struct {
	// Kinds are the kinds of action the program takes, in the order the error of an action
	// without exactly one of them lists them.
	Kinds []Kind

	// MemberError words a member of an action of this kind that cannot be decoded; nil:
	// "MEMBER: why".
	MemberError func(kind, member string, err error) error

	// UnknownMember words a member an action of this kind does not take (allowed: the kind's
	// name, then its members); nil: `unknown member "x" (a KIND action has KIND, …)`.
	UnknownMember func(kind, member string, allowed []string) error

	// SignedSizes reads split and frame_size as int, a negative one refused as "KIND: NAME is
	// negative"; otherwise they are uint32, and encoding/json refuses a negative one.
	SignedSizes bool
}

// ParseActions reads raw, a JSON array of actions. An action that cannot be read is
// "NAME[i]: why"; raw that is not an array, null included, is the error notArray.
func (d *Dialect) ParseActions(raw json.RawMessage, name, notArray string) ([]Action, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return nil, errors.New(notArray)
	}
	var actions []Action
	for i, raw := range list {
		a, err := d.ParseAction(raw)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %v", name, i, err)
		}
		actions = append(actions, a)
	}
	return actions, nil
}

// ParseAction reads one action: a JSON object with exactly one member that names one of the
// dialect's kinds, and only the members that kind takes.
func (d *Dialect) ParseAction(raw json.RawMessage) (Action, error) {
	m, err := Members(raw)
	if err != nil {
		return Action{}, err
	}
	names := SortedKeys(m)
	var kinds []string
	for _, name := range names {
		if d.kind(name) != nil {
			kinds = append(kinds, name)
		}
	}
	if len(kinds) != 1 {
		all := make([]string, len(d.Kinds))
		for i, k := range d.Kinds {
			all[i] = k.Name
		}
		return Action{}, fmt.Errorf("an action has exactly one of %s (this one has %d: %s)",
			strings.Join(all, ", "), len(kinds), strings.Join(kinds, ", "))
	}
	k := d.kind(kinds[0])
	for _, name := range names {
		if name != k.Name && !slices.Contains(k.Members, name) {
			return Action{}, d.unknownMember(k, name)
		}
	}
	o := &Object{members: m, kind: k.Name, dialect: d}
	a := Action{Kind: k.Name}
	if err := o.Get("end_stream", &a.EndStream); err != nil {
		return Action{}, err
	}
	if err := k.Read(o, &a); err != nil {
		return Action{}, err
	}
	return a, nil
}

// kind returns the dialect's kind of this name, or nil.
func (d *Dialect) kind(name string) *Kind {
	for i := range d.Kinds {
		if d.Kinds[i].Name == name {
			return &d.Kinds[i]
		}
	}
	return nil
}

func (d *Dialect) unknownMember(k *Kind, name string) error {
	allowed := append([]string{k.Name}, k.Members...)
	if d.UnknownMember != nil {
		return d.UnknownMember(k.Name, name, allowed)
	}
	return fmt.Errorf("unknown member %q (a %s action has %s)", name, k.Name, strings.Join(allowed, ", "))
}

// Object is the members of one action while a Kind reads them.
type Object struct {
	members map[string]json.RawMessage
	kind    string
	dialect *Dialect
}

// Get decodes member name, if the action has it, into v; an error is worded as the dialect
// says.
func (o *Object) Get(name string, v any) error {
	raw, ok := o.members[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		if o.dialect.MemberError != nil {
			return o.dialect.MemberError(o.kind, name, err)
		}
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}

// size decodes the size member name (split, frame_size), if present, into n: an int or a
// uint32, as the dialect says.
func (o *Object) size(name string, n *int) error {
	if o.dialect.SignedSizes {
		return o.Get(name, n)
	}
	var u uint32
	if err := o.Get(name, &u); err != nil {
		return err
	}
	*n = int(u)
	return nil
}

// notNegative refuses a negative size (only an int size can be).
func (o *Object) notNegative(name string, n int) error {
	if n < 0 {
		return fmt.Errorf("%s: %s is negative", o.kind, name)
	}
	return nil
}
