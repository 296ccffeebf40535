"""The agent: devices, commands, schedules and the outbox, wired in edge.agent.app."""
