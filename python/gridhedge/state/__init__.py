"""What a bot remembers across restarts."""
