package interop

import (
	"context"
	"net/http"

	"gopkg.in/yaml.v3"
)

// protocol is one kind of back-end. It owns everything that differs from
// one kind to another: the fields of a service entry only it reads, how
// they are checked and compiled, how one attempt of a call is built and
// sent, how the answer becomes a Response (whose Body is JSON, read by a
// call step's save: with gjson paths, whatever the wire format), and what
// names a call for the cache. Retries, breaker, rate limit, budget, cache
// and the common fields (base_url, method, path, headers, auth, …) wrap
// every protocol the same way.
//
// Adding a protocol is one file that implements protocol and adds itself
// to protocols below, plus its tests.
type protocol interface {
	// kind is the name a services file gives it in "kind:".
	kind() string

	// fields decodes the keys of a service entry that belong to this
	// protocol, e.g. "xroad"; a decoder reports problems with d.fail, so
	// they carry the key's file:line:col.
	fields() map[string]func(d *serviceDecoder, v *yaml.Node)

	// prepare checks and compiles the protocol's part of s after the common
	// fields are prepared. It runs for every service, whatever its kind, so
	// that a protocol's fields set on a service of another kind are
	// reported rather than ignored.
	prepare(s *Service, bad func(field, format string, args ...any))

	// call sends one attempt. ctx is bounded by the attempt's deadline; the
	// protocol fills Outcome, Status, Body, Err and CorrelationID.
	call(ctx context.Context, hc *http.Client, s *Service, params map[string]any) Response

	// cacheKey names a call of a cached service: two calls with the same
	// key must get the same answer.
	cacheKey(ctx context.Context, s *Service, params map[string]any) (string, error)
}

// methodDefaulter is a protocol whose services default to another method
// than GET, as SOAP's are all POST.
type methodDefaulter interface {
	defaultMethod() string
}

// protocols are the kinds a Registry accepts, in the order error messages
// name them. The one list to extend when a protocol is added.
var protocols = []protocol{restProtocol{}, xroadProtocol{}, soapProtocol{}}

// plannedKinds are kinds a services file may name that have no protocol
// yet: loading reports them as not supported rather than unknown, so an
// operator knows the file is right and the gateway is behind.
var plannedKinds = []string{"xroad-soap"}

// kinds lists the names of protocols.
var kinds = func() []string {
	names := make([]string, len(protocols))
	for i, p := range protocols {
		names[i] = p.kind()
	}
	return names
}()

// protocolFor returns the protocol of kind, or nil.
func protocolFor(kind string) protocol {
	for _, p := range protocols {
		if p.kind() == kind {
			return p
		}
	}
	return nil
}
