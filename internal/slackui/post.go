package slackui

import (
	"context"
	"strings"

	"github.com/slack-go/slack"
)

// Post sends a message to channel and returns its ref "CHANNEL|TS".
func Post(ctx context.Context, c *slack.Client, channel string, msg []slack.MsgOption) (string, error) {
	ch, ts, err := c.PostMessageContext(ctx, channel, msg...)
	if err != nil {
		return "", err
	}
	return ch + "|" + ts, nil
}

// Update replaces the message of ref (chat.update).
func Update(ctx context.Context, c *slack.Client, ref string, msg []slack.MsgOption) error {
	ch, ts, _ := SplitRef(ref)
	_, _, _, err := c.UpdateMessageContext(ctx, ch, ts, msg...)
	return err
}

// Reply posts text in the thread of ref, or in channel when ref is no
// message's.
func Reply(ctx context.Context, c *slack.Client, ref, channel, text string) error {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if ch, ts, ok := SplitRef(ref); ok {
		channel = ch
		opts = append(opts, slack.MsgOptionTS(ts))
	}
	_, _, err := c.PostMessageContext(ctx, channel, opts...)
	return err
}

// Ephemeral shows text to user only, in channel.
func Ephemeral(ctx context.Context, c *slack.Client, channel, user, text string) error {
	_, err := c.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false))
	return err
}

// SplitRef reads a ref "CHANNEL|TS"; ok is false unless both are there.
func SplitRef(ref string) (channel, ts string, ok bool) {
	channel, ts, ok = strings.Cut(ref, "|")
	return channel, ts, ok && channel != "" && ts != ""
}
