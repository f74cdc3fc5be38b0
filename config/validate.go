package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"
)

// finisher validates a decoded role configuration and fills in defaults that
// are not constants (the identity).
type finisher interface {
	finish(role string) error
}

func (c *Orchestrator) finish(role string) error {
	return setIdentity(&c.Identity, role)
}

func (c *Build) finish(role string) error {
	return firstErr(setIdentity(&c.Identity, role), positive(role, "TIMEOUT", c.Timeout))
}

func (c *Review) finish(role string) error {
	return firstErr(setIdentity(&c.Identity, role), positive(role, "TIMEOUT", c.Timeout))
}

func (c *Deploy) finish(role string) error {
	return firstErr(setIdentity(&c.Identity, role), positive(role, "TIMEOUT", c.Timeout))
}

func (c *Approval) finish(role string) error {
	return firstErr(setIdentity(&c.Identity, role), hostPort(role, "LISTEN", c.Listen),
		httpURL(role, "UI_URL", c.UIURL), c.slack(role), c.page(role))
}

// page defaults the approval page to localhost at LISTEN's port: browsers
// give passkeys to http pages on localhost only.
func (c *Approval) page(role string) error {
	if c.PageURL == "" {
		_, port, _ := net.SplitHostPort(c.Listen)
		c.PageURL = "http://localhost:" + port
	}
	if c.PageURL == "off" {
		return nil
	}
	if err := pageURL(c.PageURL); err != nil {
		return fmt.Errorf("%sPAGE_URL: %v", Prefix(role), err)
	}
	return nil
}

// slack: taking clicks (signing secret or Socket Mode) needs the workspace
// to accept clicks from (fail closed) and the bot to answer refused clickers.
func (c *Approval) slack(role string) error {
	inbound := c.SlackSigningSecret != "" || c.SlackAppToken != ""
	if c.SlackAPIURL != "" {
		if err := httpURL(role, "SLACK_API_URL", c.SlackAPIURL); err != nil {
			return err
		}
	}
	switch {
	case inbound && c.SlackTeamID == "":
		return fmt.Errorf("%sSLACK_TEAM_ID: required with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN (only this workspace's clicks count)", Prefix(role))
	case inbound && c.SlackBotToken == "":
		return fmt.Errorf("%sSLACK_BOT_TOKEN: required with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN", Prefix(role))
	}
	return nil
}

// Identity returns the role's Temporal identity: "foureyes-<role>@<hostname>"
// by default. An override must be "foureyes-<role>" or start with
// "foureyes-<role>@" or "foureyes-<role>-", and contain no space or control
// character.
func Identity(role, override string) (string, error) {
	if err := checkRole(role); err != nil {
		return "", err
	}
	base := "foureyes-" + role
	if override == "" {
		host, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("config: identity for role %s: %w", role, err)
		}
		return base + "@" + host, nil
	}
	rest, ok := strings.CutPrefix(override, base)
	if !ok || (rest != "" && rest[0] != '@' && rest[0] != '-') {
		return "", fmt.Errorf("identity %q must start with %q (e.g. %s@host)", override, base, base)
	}
	if strings.ContainsFunc(override, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", fmt.Errorf("identity %q must not contain spaces or control characters", override)
	}
	return override, nil
}

func setIdentity(id *string, role string) error {
	v, err := Identity(role, *id)
	if err != nil {
		return fmt.Errorf("%sIDENTITY: %w", Prefix(role), err)
	}
	*id = v
	return nil
}

func positive(role, key string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s%s: must be positive, got %s", Prefix(role), key, d)
	}
	return nil
}

func hostPort(role, key, v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return fmt.Errorf("%s%s: want host:port: %w", Prefix(role), key, err)
	}
	return nil
}

func httpURL(role, key, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s%s: want an http(s) URL, got %q", Prefix(role), key, v)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// pageURL: browsers give passkeys to https pages, and to http on localhost.
func pageURL(v string) error {
	u, err := url.Parse(v)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/"):
		return fmt.Errorf("want https://HOST[:PORT] (or \"off\"), got %q", v)
	case u.Scheme == "http" && u.Hostname() != "localhost":
		return fmt.Errorf("%q: plain http is only for localhost (browsers give passkeys to https pages)", v)
	}
	return nil
}
