// Package studio is the flow author's workbench in the browser: a feature
// phone, an SMS thread and a chat driving one conversation through the
// real gateway, engine and renderers, with the flows' lint problems kept
// live, the flow's diagram and a way to save the conversation as a golden
// transcript.
//
// It is a tool for one author on their own machine: it keeps one
// conversation, in memory, and must never be mounted by `serve`.
package studio
