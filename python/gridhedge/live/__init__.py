"""Leaving the bot running: ``gridhedge run`` and its supervised loop (``LiveRunner``)."""
