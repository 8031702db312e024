package wire

import "log/slog"

// Logger is the logger an adapter was given in its options, or
// slog.Default() when none was. The gateway always gives one: its own,
// which pseudonymises citizens' identifiers and writes the chosen format.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
