package ui

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// commonZones are offered in the time zone field's list; any other IANA name may be
// typed.
var commonZones = []string{
	"UTC",
	"Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk", "Asia/Novosibirsk",
	"Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka",
	"Europe/Minsk", "Europe/Kyiv", "Europe/Istanbul", "Asia/Tbilisi", "Asia/Yerevan", "Asia/Baku", "Asia/Almaty",
	"Asia/Tashkent", "Europe/London", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome",
	"Europe/Warsaw", "Europe/Helsinki", "Asia/Dubai", "Asia/Kolkata", "Asia/Bangkok", "Asia/Shanghai", "Asia/Singapore",
	"Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo", "America/New_York", "America/Chicago",
	"America/Denver", "America/Los_Angeles",
}

// localeChoices are the language setting's choices: "" follows the browser.
var localeChoices = []string{"", "en", "ru"}

func init() { addBuiltKeys("account.locale.", "auto", "en", "ru") }

// accountPage is the data of the account settings.
type accountPage struct {
	settingsHeader
	Locale   string
	TimeZone string
	Locales  []string
	Zones    []string
	Sessions []sessionRow
	// Errors are the preferences form's, PasswordErrors the password form's.
	Errors         formErrors
	PasswordErrors formErrors
}

// sessionRow is one of the user's signed-in browsers; Current is this one.
type sessionRow struct {
	engine.SessionInfo
	Current bool
}

// LocaleKey is the catalogue key naming a language choice.
func (accountPage) LocaleKey(l string) string {
	if l == "" {
		return "account.locale.auto"
	}
	return "account.locale." + l
}

// newAccountPage reads what the account page shows; on an error it has answered the
// request and returns nil.
func (h *Handler) newAccountPage(c *gin.Context, v *view) *accountPage {
	p := &accountPage{settingsHeader: settingsHeader{Tab: "account"}, Locale: v.User.Locale, TimeZone: v.User.TimeZone,
		Locales: localeChoices, Zones: commonZones}
	sessions, err := h.engine.ListSessions(c.Request.Context())
	if err != nil {
		h.fail(c, v, err)
		return nil
	}
	var current string
	if s := h.session(c); s != nil {
		current = s.ID
	}
	for _, s := range sessions {
		p.Sessions = append(p.Sessions, sessionRow{SessionInfo: s, Current: s.ID == current})
	}
	v.Data = p
	return p
}

// accountShow shows the signed-in user's account: email and role, language and time
// zone, the password form, and their sessions.
func (h *Handler) accountShow(c *gin.Context, v *view) {
	if h.newAccountPage(c, v) == nil {
		return
	}
	h.render(c, http.StatusOK, "settings_account", v)
}

// accountSave saves the user's language and time zone. The next page is already in the
// new language and zone.
func (h *Handler) accountSave(c *gin.Context, v *view) {
	locale, tz := c.PostForm("locale"), strings.TrimSpace(c.PostForm("time_zone"))
	_, err := h.engine.UpdateAccount(c.Request.Context(), engine.AccountPatch{Locale: &locale, TimeZone: &tz})
	if problems, ok := validationProblems(err, "locale", "time_zone"); ok {
		p := h.newAccountPage(c, v)
		if p == nil {
			return
		}
		p.Locale, p.TimeZone = locale, tz
		p.Errors = problems
		if _, bad := problems.Fields["time_zone"]; bad {
			problems.Fields["time_zone"] = v.T("account.error.time_zone", "Zone", tz)
		}
		if _, bad := problems.Fields["locale"]; bad {
			problems.Fields["locale"] = v.T("account.error.locale")
		}
		h.render(c, http.StatusUnprocessableEntity, "settings_account", v)
		return
	}
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/settings/account", "account_saved")
}

// accountPassword changes the user's password after checking the current one; the
// user's other sessions end, this one stays.
func (h *Handler) accountPassword(c *gin.Context, v *view) {
	current, next := c.PostForm("current_password"), c.PostForm("new_password")
	problems := formErrors{Fields: map[string]string{}}
	status := http.StatusUnprocessableEntity
	var err error
	if next != c.PostForm("confirm_password") {
		problems.Fields["confirm_password"] = v.T("account.error.mismatch")
	} else {
		var keep string
		if s := h.session(c); s != nil {
			keep = s.ID
		}
		err = h.engine.ChangePassword(c.Request.Context(), current, next, keep)
		var throttled *engine.ThrottledError
		switch pr, invalid := validationProblems(err, "current_password", "new_password"); {
		case err == nil:
			h.redirect(c, "/settings/account", "password_changed")
			return
		case errors.As(err, &throttled):
			status = http.StatusTooManyRequests
			secs := int(math.Ceil(throttled.RetryAfter.Seconds()))
			c.Header("Retry-After", strconv.Itoa(secs))
			problems.Form = []string{v.T("login.throttled", "Seconds", secs)}
		case invalid:
			if _, bad := pr.Fields["current_password"]; bad {
				problems.Fields["current_password"] = v.T("account.error.current")
			}
			if _, bad := pr.Fields["new_password"]; bad {
				problems.Fields["new_password"] = v.T("account.error.length", "Min", engine.PasswordMinLength, "Max", engine.PasswordMaxLength)
			}
			problems.Form = pr.Form
		default:
			h.fail(c, v, err)
			return
		}
	}
	p := h.newAccountPage(c, v)
	if p == nil {
		return
	}
	p.PasswordErrors = problems
	h.render(c, status, "settings_account", v)
}

// MinPassword is the shortest password accepted.
func (accountPage) MinPassword() int { return engine.PasswordMinLength }
