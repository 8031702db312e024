package gateway

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Auth is how a carrier's callbacks prove they come from the carrier. Any
// combination may be set; every one set must pass. A request that fails
// gets 401 or 403 before it reaches the carrier adapter, so it never
// touches a session.
type Auth struct {
	// AllowIPs lists the networks the carrier calls from. The address is
	// the TCP peer's; put the gateway behind a proxy only with a proxy that
	// the allow-list names.
	AllowIPs []netip.Prefix
	// BasicUser and BasicPassword require HTTP basic authentication.
	BasicUser, BasicPassword string
	// PathToken is a secret the carrier puts in the callback URL
	// (/c/<token>/ussd/…), for carriers that can do nothing else. It is
	// checked by the route itself: see Prefix.
	PathToken string
}

// Prefix returns the path the carrier's routes are mounted under: "" or
// "/c/<token>".
func (a Auth) Prefix() string {
	if a.PathToken == "" {
		return ""
	}
	return "/c/" + a.PathToken
}

// Middleware returns the checks for the allow-list and basic auth.
func (a Auth) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if len(a.AllowIPs) > 0 && !a.allowed(c.Request().RemoteAddr) {
				return c.String(http.StatusForbidden, "forbidden\n")
			}
			if a.BasicUser != "" || a.BasicPassword != "" {
				user, pass, ok := c.Request().BasicAuth()
				// Both compared, always, so timing says nothing of which failed.
				u := subtle.ConstantTimeCompare([]byte(user), []byte(a.BasicUser))
				p := subtle.ConstantTimeCompare([]byte(pass), []byte(a.BasicPassword))
				if !ok || u&p != 1 {
					c.Response().Header().Set("WWW-Authenticate", `Basic realm="ventanilla"`)
					return c.String(http.StatusUnauthorized, "unauthorized\n")
				}
			}
			return next(c)
		}
	}
}

func (a Auth) allowed(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range a.AllowIPs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Mount mounts a carrier on the server behind its authentication.
func Mount(e *echo.Echo, c carrier.Carrier, a Auth, h carrier.Hopper) {
	var mws []echo.MiddlewareFunc
	if len(a.AllowIPs) > 0 || a.BasicUser != "" || a.BasicPassword != "" {
		mws = append(mws, a.Middleware())
	}
	if a.Prefix() == "" && len(mws) == 0 {
		c.Mount(e, h)
		return
	}
	c.Mount(e.Group(a.Prefix(), mws...), h)
}
