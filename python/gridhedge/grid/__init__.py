"""The grid strategy: configuration, grid calculators and the bot."""
