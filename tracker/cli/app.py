"""The decorator that hands a command the App the root group built."""

from __future__ import annotations

import click

from tracker.app import App

pass_app = click.make_pass_decorator(App)
"""Decorator handing the command the App built by the root group."""
