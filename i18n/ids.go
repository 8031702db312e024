package i18n

// Message ids of the system messages. Flows have texts of their own; these
// are the words the gateway itself says on every channel.
const (
	NavBack         = "nav.back"                  // "Atrás"
	NavHome         = "nav.home"                  // "Inicio"
	NavMore         = "nav.more"                  // "Más"
	NavNoMore       = "nav.no_more"               // "No hay más páginas."
	NavNoBack       = "nav.no_back"               // "No hay pantalla anterior."
	InvalidOption   = "error.invalid_option"      // "Opción no válida."
	InvalidInput    = "error.invalid_input"       // generic "Dato no válido."
	TooManyAttempts = "error.too_many_attempts"   // "Demasiados intentos. Vuelva a marcar más tarde."
	SessionExpired  = "error.session_expired"     // "Su sesión ha caducado. Marque de nuevo."
	ServiceUnavail  = "error.service_unavailable" // "Servicio no disponible. Intente más tarde."
	TryAgain        = "error.try_again"           // "No pudimos atenderle. Intente de nuevo en unos minutos."
	Goodbye         = "end.goodbye"               // "Gracias por usar Ventanilla."
	// The flow outgrew the gateway's bounds (a session too large).
	FlowTooLarge = "error.flow_too_large" // "Este trámite no puede continuar por un error de la institución. …"

	// Default messages of the built-in validators; {{Min}}, {{Max}} where
	// shown. A bound that is not set picks the variant that leaves it out.
	ValidateCedula    = "validate.cedula" // "Cédula no válida. Escriba los 10 dígitos."
	ValidateRUC       = "validate.ruc"
	ValidatePhone     = "validate.phone"
	ValidateDate      = "validate.date"       // "Fecha no válida. Use DD/MM/AAAA."
	ValidateRange     = "validate.range"      // "Escriba un número entre {{Min}} y {{Max}}."
	ValidateRangeMax  = "validate.range.max"  // "Escriba un número hasta {{Max}}."
	ValidateRangeMin  = "validate.range.min"  // "Escriba un número desde {{Min}}."
	ValidateLength    = "validate.length"     // "Escriba entre {{Min}} y {{Max}} caracteres."
	ValidateLengthMax = "validate.length.max" // "Escriba hasta {{Max}} caracteres."
	ValidateLengthMin = "validate.length.min" // "Escriba al menos {{Min}} caracteres."
	ValidateRegex     = "validate.regex"      // "Formato no válido."
	ValidateRequired  = "validate.required"   // "Escriba una respuesta."

	// Default messages for the outcomes of a back-end call.
	CallNotFound    = "call.not_found"   // "No encontramos ese registro."
	CallRejected    = "call.rejected"    // "La institución no aceptó la solicitud."
	CallError       = "call.error"       // "Ocurrió un error en la institución."
	CallTimeout     = "call.timeout"     // "La institución tarda en responder. Intente más tarde."
	CallUnavailable = "call.unavailable" // "El servicio no está disponible ahora."

	LanguageName = "language.name" // the language's own name: "Español", "English", "Runa shimi"

	// Offered when a citizen dials again after a USSD session dropped
	// mid-trámite; {{Flow}} is the trámite's title.
	ResumePrompt   = "resume.prompt"   // "Tiene un trámite sin terminar: {{Flow}}."
	ResumeContinue = "resume.continue" // "Continuar"
	ResumeRestart  = "resume.restart"  // "Empezar de nuevo"
	// Heads the result of a back-end call that was under way when the
	// citizen's session dropped, shown when they come back.
	ResumeDone = "resume.done" // "Su solicitud ya se había enviado. Resultado:"

	// Said when a back-end call marked async outlasts the hop.
	AsyncSMS = "async.sms" // "Su consulta tarda más de lo normal. Le enviaremos el resultado por SMS."
	// Said instead when no SMS carrier can send it: the result waits for
	// the citizen's next contact.
	AsyncNextContact = "async.next_contact" // "… Le mostraremos el resultado la próxima vez que nos contacte."
	// Heads a result kept for the citizen's next contact.
	AsyncResult = "async.result" // "Resultado de su consulta anterior:"

	// A flow of authentication level 1 reached without a verified number.
	AuthNeedsNumber = "auth.needs_number" // "Este trámite necesita su número verificado. Compártalo e intente de nuevo."
	// Level 2: a one-time code by SMS.
	AuthCodePrompt  = "auth.code_prompt"  // "Le enviamos un código por SMS. Escríbalo para continuar:"
	AuthCodeSMS     = "auth.code_sms"     // "Ventanilla: su código es {{Code}}. No lo comparta con nadie."
	AuthCodeWrong   = "auth.code_wrong"   // "Código incorrecto."
	AuthCodeExpired = "auth.code_expired" // "El código caducó. Marque de nuevo para recibir otro."
	AuthUnavailable = "auth.unavailable"  // "Este trámite necesita verificación por SMS, que no está disponible ahora."
	// Level 2: a PIN the citizen set.
	AuthPINPrompt = "auth.pin_prompt" // "Escriba su PIN de 4 dígitos:"
	AuthPINWrong  = "auth.pin_wrong"  // "PIN incorrecto."
	AuthPINLocked = "auth.pin_locked" // "Demasiados intentos con el PIN. Intente de nuevo en 15 minutos."
	AuthPINCreate = "auth.pin_create" // "Cree un PIN de 4 dígitos para entrar más rápido la próxima vez, o 0 para seguir sin PIN:"
	AuthPINSet    = "auth.pin_set"    // "PIN guardado."
)

// AllIDs lists every id above, in the order above. Tests use it to check that
// each locale has every message and that the lengths fit a screen; a test
// parses this file and fails when a constant is missing here.
var AllIDs = []string{
	NavBack, NavHome, NavMore, NavNoMore, NavNoBack,
	InvalidOption, InvalidInput, TooManyAttempts, SessionExpired, ServiceUnavail, TryAgain, Goodbye, FlowTooLarge,
	ValidateCedula, ValidateRUC, ValidatePhone, ValidateDate, ValidateRange, ValidateRangeMax, ValidateRangeMin,
	ValidateLength, ValidateLengthMax, ValidateLengthMin, ValidateRegex, ValidateRequired,
	CallNotFound, CallRejected, CallError, CallTimeout, CallUnavailable,
	LanguageName,
	ResumePrompt, ResumeContinue, ResumeRestart, ResumeDone,
	AsyncSMS, AsyncNextContact, AsyncResult,
	AuthNeedsNumber, AuthCodePrompt, AuthCodeSMS, AuthCodeWrong, AuthCodeExpired, AuthUnavailable,
	AuthPINPrompt, AuthPINWrong, AuthPINLocked, AuthPINCreate, AuthPINSet,
}
