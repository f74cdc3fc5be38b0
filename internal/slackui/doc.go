// Package slackui is foureyes' Slack message UI, shared by the approval
// role's notifier (activities.SlackNotifier) and the gateway:
//
//   - the prompt of a gate in each of its states (Message, ReminderText),
//     with its buttons while the gate is open (Open, Rank order the states);
//   - the buttons' value (ButtonValue: api.SlackButton as JSON) and action
//     ids (api.SlackAction*), which are in recorded Slack messages and must
//     not change;
//   - posting and updating a prompt by its ref "CHANNEL|TS" (Post, Update,
//     Reply, Ephemeral, SplitRef);
//   - reading a click back (Payload, ParseClick) and the reject reason
//     dialog (ReasonModal, ParseReason).
//
// It knows Slack, not Temporal nor the decision path: what a click is
// allowed to do is the gateway's to judge.
package slackui
