"""Command line: `flask demo`, `flask users create`, `flask groups create`."""

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    pass
